#!/usr/bin/env bash
# The host against a bare warp server answering the same bytes, in one run, on this machine: the price of the
# host's middleware chain, routing and slot calls. For GET /healthz and GET /api/options/config, alternating
# bare and host for ROUNDS rounds, it prints requests/s and the server's CPU time per request (utime+stime from
# /proc/PID/stat over the run, steadier than requests/s on a shared machine) and the host/bare ratios.
# The host runs with no plugins and rate_limit_per_sec = 0. Installs wrk (Debian package) if missing.
#
# With BASELINE=/path/to/an/earlier/openhost, that binary serves too (same config, another port) and is measured
# in the same rounds: the last columns compare this build with it (before/after a change, on the same machine at
# the same time).
#
#   tools/bench/ratio.sh [DURATION_SECS] [CONNECTIONS] [ROUNDS]      (defaults 10, 32, 2)
#   BASELINE=/tmp/openhost-before tools/bench/ratio.sh 8 32 3
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-10}"
connections="${2:-32}"
rounds="${3:-2}"
host_addr="127.0.0.1:9921"
bare_addr="127.0.0.1:9922"
baseline_addr="127.0.0.1:9923"
baseline="${BASELINE:-}"

source tools/bench/common.sh

cargo build --release --quiet -p openhost -p openhost-bench

mkdir -p "$work/host/plugins"
cat >"$work/host/plugins.toml" <<TOML
[host]
listen = "$host_addr"
data_dir = "data"
plugin_dir = "plugins"
rate_limit_per_sec = 0
TOML
RUST_LOG=warn target/release/openhost serve --config "$work/host/plugins.toml" >"$work/host.log" 2>&1 &
host_pid=$!
pids+=("$host_pid")
wait_for "http://$host_addr/healthz"

start_bare_warp "$host_addr" "$bare_addr"

if [[ -n "$baseline" ]]; then
    sed "s/$host_addr/$baseline_addr/" "$work/host/plugins.toml" >"$work/host/baseline.toml"
    mkdir -p "$work/host/baseline-data"
    sed -i 's|^data_dir = .*|data_dir = "baseline-data"|' "$work/host/baseline.toml"
    RUST_LOG=warn "$baseline" serve --config "$work/host/baseline.toml" >"$work/baseline.log" 2>&1 &
    baseline_pid=$!
    pids+=("$baseline_pid")
    wait_for "http://$baseline_addr/healthz"
fi

echo "wrk: 2 threads, $connections connections, ${duration}s per row; host and bare warp on this machine"
echo
if [[ -n "$baseline" ]]; then
    echo "| route | round | bare req/s | host req/s | host/bare req/s | bare CPU µs/req | host CPU µs/req | host/bare CPU | baseline CPU µs/req | host/baseline CPU |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
else
    echo "| route | round | bare req/s | host req/s | host/bare req/s | bare CPU µs/req | host CPU µs/req | host/bare CPU |"
    echo "|---|---|---|---|---|---|---|---|"
fi
for round in $(seq 1 "$rounds"); do
    for path in /healthz /api/options/config; do
        read -r bare_rps bare_cpu _ <<<"$(measure "$bare_pid" "http://$bare_addr$path")"
        read -r host_rps host_cpu _ <<<"$(measure "$host_pid" "http://$host_addr$path")"
        row="$(awk -v p="$path" -v r="$round" -v br="$bare_rps" -v hr="$host_rps" -v bc="$bare_cpu" -v hc="$host_cpu" \
            'BEGIN { printf "| `GET %s` | %d | %d | %d | %.2f | %.1f | %.1f | %.2f |", p, r, br, hr, hr / br, bc, hc, hc / bc }')"
        if [[ -n "$baseline" ]]; then
            read -r _ base_cpu _ <<<"$(measure "$baseline_pid" "http://$baseline_addr$path")"
            row="$row$(awk -v hc="$host_cpu" -v oc="$base_cpu" 'BEGIN { printf " %.1f | %.2f |", oc, hc / oc }')"
        fi
        echo "$row"
    done
done
