#!/usr/bin/env bash
# Load benchmark of the open-source host (no plugins) against the fake GitHub, both on loopback.
# Installs wrk (Debian package) if missing, builds release binaries, starts both servers, runs wrk, prints
# requests/s and p50/p99 latency as a markdown table. Everything stops by itself (bounded duration, trap).
#
#   tools/bench/load.sh [DURATION_SECS] [CONNECTIONS]      (defaults 10 and 32)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-10}"
connections="${2:-32}"
fake_addr="127.0.0.1:9911"
host_addr="127.0.0.1:9912"

if ! command -v wrk >/dev/null; then
    echo "installing wrk..." >&2
    (apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; })
fi

cargo build --release --quiet -p openhost --bin openhost -p openhost-tests --bin fake-github

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

target/release/fake-github "$fake_addr" 150 >"$work/fake.log" 2>&1 &
pids+=($!)
mkdir -p "$work/plugins"
cat >"$work/plugins.toml" <<TOML
[host]
listen = "$host_addr"
data_dir = "data"
plugin_dir = "plugins"
github_api_url = "http://$fake_addr"
rate_limit_per_sec = 0
TOML
RUST_LOG=warn target/release/openhost serve --config "$work/plugins.toml" >"$work/host.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
    curl -fs "http://$host_addr/healthz" >/dev/null 2>&1 && grep -q "access token" "$work/fake.log" && break
    sleep 0.1
done
pat="$(sed -n 's/.*personal access token: //p' "$work/fake.log")"
curl -fs -X POST "http://$host_addr/api/add-git-providers" -H 'content-type: application/json' \
    -d "{\"provider_tokens\":{\"github\":{\"token\":\"$pat\",\"host\":null}}}" >/dev/null

run() {
    local label="$1" path="$2" out
    out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "http://$host_addr$path")"
    local rps p50 p99 errors
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
    printf '| %s | %s | %s | %s | %s |\n' "$label" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo "wrk: 2 threads, $connections connections, ${duration}s per route; host and fake GitHub on this machine"
echo
echo "| route | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "GET /api/options/config" "/api/options/config"
run "GET /api/user/repositories?per_page=30" "/api/user/repositories?per_page=30"
