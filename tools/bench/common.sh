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

# start_fake_github ADDR: the project's fake GitHub on ADDR; sets fake_pat, fake_client_id and exports
# BENCH_CLIENT_SECRET (its OAuth app's secret, read from its log) and BENCH_SECRET_KEY (a fresh key for the
# enterprise plugin).
start_fake_github() {
    target/release/fake-github "$1" 150 >"$work/fake.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 200); do grep -q "client_secret" "$work/fake.log" && break; sleep 0.05; done
    fake_pat="$(sed -n 's/.*personal access token: //p' "$work/fake.log")"
    fake_client_id="$(sed -n 's/.*client_id: //p' "$work/fake.log")"
    BENCH_CLIENT_SECRET="$(sed -n 's/.*client_secret: //p' "$work/fake.log")"
    BENCH_SECRET_KEY="$(head -c 32 /dev/urandom | base64 -w0)"
    export BENCH_CLIENT_SECRET BENCH_SECRET_KEY
}

# enterprise_toml ADDR FAKE_ADDR: the plugins.toml lines of the enterprise plugin of a host at ADDR signing in
# through the fake GitHub at FAKE_ADDR (after start_fake_github, whose exports its secrets name).
enterprise_toml() {
    printf '%s\n' "[plugins.enterprise.config]" \
        "github_client_id = \"$fake_client_id\"" \
        "github_client_secret = \"\${BENCH_CLIENT_SECRET}\"" \
        "public_url = \"http://$1\"" \
        "secret_key = \"\${BENCH_SECRET_KEY}\"" \
        "github_web_url = \"http://$2\"" \
        "github_api_url = \"http://$2\""
}

# sign_in ADDR: signs in to the enterprise host at ADDR as a browser would (the fake GitHub approves at once; curl
# follows the redirects and keeps the cookies); prints the session cookie's value.
sign_in() {
    curl -fs -c "$work/jar" -b "$work/jar" -L "http://$1/oauth/github/login?redirect=/healthz" >/dev/null
    local session
    session="$(awk '$6 == "openhost_session" {print $7}' "$work/jar")"
    [[ -n "$session" ]] || { echo "signing in to the enterprise host at $1 failed" >&2; exit 1; }
    echo "$session"
}

# start_bare_warp HOST_ADDR BARE_ADDR: the bare warp server on BARE_ADDR answering the very bytes the host at
# HOST_ADDR answers to GET /healthz and GET /api/options/config; sets bare_pid.
start_bare_warp() {
    curl -fs "http://$1/healthz" >"$work/healthz.json"
    curl -fs "http://$1/api/options/config" >"$work/config.json"
    target/release/bare-warp "$2" "/healthz=$work/healthz.json" "/api/options/config=$work/config.json" \
        2>"$work/bare.log" &
    bare_pid=$!
    pids+=("$bare_pid")
    wait_for "http://$2/healthz"
    cmp -s <(curl -fs "http://$2/api/options/config") "$work/config.json" || { echo "bodies differ" >&2; exit 1; }
}
