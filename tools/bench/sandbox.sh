#!/usr/bin/env bash
# The price of a sandboxed plugin, in one run on this machine: three release hosts answer GET /healthz, one with
# no plugin, one with the native header-stamp example (a response header from a native middleware) and one with
# the wasm-header-stamp guest (the same header from an http-wasm guest). Alternating them for ROUNDS rounds, it
# prints requests/s, the server's CPU time per request (utime+stime from /proc/PID/stat over the run) and p99,
# and the ratios to the host with no plugin. Then the resident memory a loaded guest costs: a host with
# GUESTS copies of the guest against one with none, divided by GUESTS (each copy is a compiled module and its
# first pooled instance). Last, the p99 of other requests while a guest spins: a host running the test guest
# tests/fixtures/wasm/stamp.wat, whose `/spin` never returns (call_timeout_ms 100: 504), answers GET /healthz
# alone, then while SPINNERS clients ask `/spin` back to back. Needs the wasm32-unknown-unknown target; installs
# wrk if missing.
#
# ROUTE (default /healthz) is the route the first table asks. With BASELINE=/path/to/an/earlier/openhost, that
# binary runs the same guest too and is measured in the same rounds (the row "wasm, baseline").
#
#   tools/bench/sandbox.sh [DURATION_SECS] [CONNECTIONS] [ROUNDS] [GUESTS] [SPINNERS]   (defaults 10, 32, 2, 50, 1)
#   ROUTE=/api/settings BASELINE=/tmp/openhost-before tools/bench/sandbox.sh 8 32 4 10 1
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-10}"
connections="${2:-32}"
rounds="${3:-2}"
guests="${4:-50}"
spinners="${5:-1}"
route="${ROUTE:-/healthz}"
baseline="${BASELINE:-}"

source tools/bench/common.sh

cargo build --release --quiet -p openhost -p openhost-example-header-stamp -p openhost-bench
cargo build --release --quiet --target wasm32-unknown-unknown \
    --manifest-path examples/wasm-header-stamp/Cargo.toml --target-dir target/wasm
native="target/release/libopenhost_example_header_stamp.so"
guest="target/wasm/wasm32-unknown-unknown/release/wasm_header_stamp.wasm"

none_pid="$(start_release_host none 127.0.0.1:9931)"
mkdir -p "$work/native/plugins" "$work/wasm/plugins"
cp "$native" "$work/native/plugins/"
cp "$guest" "$work/wasm/plugins/"
native_pid="$(start_release_host native 127.0.0.1:9932)"
wasm_pid="$(start_release_host wasm 127.0.0.1:9933)"
pids+=("$none_pid" "$native_pid" "$wasm_pid")
kinds=(native wasm)
if [[ -n "$baseline" ]]; then
    mkdir -p "$work/baseline/plugins"
    cp "$guest" "$work/baseline/plugins/"
    baseline_pid="$(start_release_host baseline 127.0.0.1:9937 "" "$baseline")"
    pids+=("$baseline_pid")
    kinds+=(baseline)
    wait_for "http://127.0.0.1:9937/healthz"
fi
for port in 9931 9932 9933; do wait_for "http://127.0.0.1:$port/healthz"; done
curl -fsi http://127.0.0.1:9933/healthz | grep -qi '^x-openhost-stamp: wasm-header-stamp' \
    || { echo "the guest did not stamp" >&2; exit 1; }

echo "wrk: 2 threads, $connections connections, ${duration}s per row; GET $route; ${#kinds[@]} hosts and none on this machine"
echo
echo "| round | host | req/s | CPU µs/req | p99 | req/s vs none | CPU vs none | CPU µs/req over none |"
echo "|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
    read -r none_rps none_cpu none_p99 <<<"$(measure "$none_pid" "http://127.0.0.1:9931$route")"
    echo "| $round | none | $none_rps | $none_cpu | $none_p99 | 1.00 | 1.00 | 0 |"
    for kind in "${kinds[@]}"; do
        case "$kind" in
            native) pid="$native_pid" port=9932 ;;
            wasm) pid="$wasm_pid" port=9933 ;;
            baseline) pid="$baseline_pid" port=9937 kind="wasm, baseline" ;;
        esac
        read -r rps cpu p99 <<<"$(measure "$pid" "http://127.0.0.1:$port$route")"
        awk -v r="$round" -v k="$kind" -v rps="$rps" -v cpu="$cpu" -v p99="$p99" -v nr="$none_rps" -v nc="$none_cpu" \
            'BEGIN { printf "| %d | %s | %d | %.2f | %s | %.2f | %.2f | %.2f |\n", r, k, rps, cpu, p99, rps / nr, cpu / nc, cpu - nc }'
    done
done

# Memory: GUESTS copies of the guest, each its own plugin (its own compiled module and first instance).
mkdir -p "$work/many/plugins"
for i in $(seq 1 "$guests"); do cp "$guest" "$work/many/plugins/guest$i.wasm"; done
many_pid="$(start_release_host many 127.0.0.1:9934)"
empty_pid="$(start_release_host empty 127.0.0.1:9935)"
pids+=("$many_pid" "$empty_pid")
for port in 9934 9935; do
    wait_for "http://127.0.0.1:$port/healthz"
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null
done
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
echo
awk -v g="$guests" -v none="$(rss "$empty_pid")" -v many="$(rss "$many_pid")" -v size="$(stat -c %s "$guest")" \
    'BEGIN { printf "Resident memory: no plugin %d KiB, %d guests %d KiB: %.0f KiB per loaded guest (module + first instance); guest file %d bytes\n", none, g, many, (many - none) / g, size }'

# Other requests while a guest spins until its deadline.
mkdir -p "$work/spin/plugins"
target/release/wat2wasm tests/fixtures/wasm/stamp.wat >"$work/spin/plugins/stamp.wasm"
spin_pid="$(start_release_host spin 127.0.0.1:9936 \
    $'[plugins.stamp]\ncall_timeout_ms = 100\n[plugins.stamp.config]\ngreeting = "hi"')"
pids+=("$spin_pid")
wait_for "http://127.0.0.1:9936/healthz"
spin_status="$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9936/spin)"
[ "$spin_status" = 504 ] || { echo "/spin answered $spin_status, not 504" >&2; exit 1; }
echo
echo "Other requests while a guest spins ($spinners client(s) asking /spin back to back, each call 100 ms of guest CPU):"
echo
echo "| load on the guest | /healthz req/s | p99 | /spin calls answered 504 |"
echo "|---|---|---|---|"
read -r quiet_rps _ quiet_p99 <<<"$(measure "$spin_pid" "http://127.0.0.1:9936/healthz")"
echo "| none | $quiet_rps | $quiet_p99 | 0 |"
spin_log="$work/spin-answers"
spinner_pids=()
for _ in $(seq 1 "$spinners"); do
    (while :; do curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:9936/spin; done >>"$spin_log") &
    spinner_pids+=("$!")
done
pids+=("${spinner_pids[@]}")
read -r busy_rps _ busy_p99 <<<"$(measure "$spin_pid" "http://127.0.0.1:9936/healthz")"
for pid in "${spinner_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
echo "| $spinners spinning | $busy_rps | $busy_p99 | $(grep -c '^504$' "$spin_log") of $(wc -l <"$spin_log") |"
