# Shared by the load scripts in this folder (sourced, not run): wrk on demand, a scratch directory, servers
# stopped when the script ends, and waiting for a server to answer.

if ! command -v wrk >/dev/null; then
    echo "installing wrk..." >&2
    (apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; })
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# wait_for URL: until it answers 2xx, at most 10 s.
wait_for() {
    for _ in $(seq 1 200); do
        curl -fs "$1" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "not up: $1" >&2
    exit 1
}

ticks_per_sec="$(getconf CLK_TCK)"

# cpu_ticks PID: utime + stime of the process, in clock ticks (fields 14 and 15; the names have no spaces).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure PID URL [WRK_ARGS...]: wrk for $duration s with $connections connections; prints
# "requests_per_sec cpu_us_per_request p99_ms" (CPU of PID over the run).
measure() {
    local pid="$1" url="$2" before after out requests
    shift 2
    before="$(cpu_ticks "$pid")"
    out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$@" "$url")"
    after="$(cpu_ticks "$pid")"
    requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    awk -v rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" -v t="$((after - before))" -v hz="$ticks_per_sec" \
        -v n="$requests" -v p99="$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        'BEGIN { printf "%.0f %.2f %s\n", rps, t / hz / n * 1e6, p99 }'
}


# start_release_host NAME ADDR [EXTRA_TOML] [BINARY]: an open-source release host (this build's, or BINARY) in
# $work/NAME with these [host] keys (rate limiter off); prints its pid.
start_release_host() {
    mkdir -p "$work/$1/plugins"
    printf '[host]\nlisten = "%s"\ndata_dir = "data"\nplugin_dir = "plugins"\nrate_limit_per_sec = 0\n%s\n' \
        "$2" "${3:-}" >"$work/$1/plugins.toml"
    RUST_LOG=warn "${4:-target/release/openhost}" serve --config "$work/$1/plugins.toml" >"$work/$1.log" 2>&1 &
    echo $!
}
