#!/usr/bin/env bash
# Flame graphs of the open-source host (release build, no plugins) and of the bare warp server answering the same
# bytes, each under wrk on one route (docs/benchmarks.md, "The plugin machinery"). Samples the server's own
# process with call stacks unwound from DWARF (`perf record --call-graph dwarf`: the release build keeps no frame
# pointers), folds them with inferno and writes OUT_DIR/host.svg and OUT_DIR/bare.svg. Needs perf (Debian's
# linux-perf) and inferno (`cargo install inferno`); installs neither.
#
#   tools/bench/flamegraph.sh [ROUTE] [OUT_DIR] [SECONDS]      (defaults /healthz, docs/flamegraphs, 4)
set -euo pipefail
cd "$(dirname "$0")/../.."

route="${1:-/healthz}"
out_dir="${2:-docs/flamegraphs}"
seconds="${3:-4}"
connections=32
host_addr="127.0.0.1:9971"
bare_addr="127.0.0.1:9972"

for tool in perf inferno-collapse-perf inferno-flamegraph; do
    command -v "$tool" >/dev/null || { echo "flamegraph.sh needs $tool on PATH" >&2; exit 1; }
done
source tools/bench/common.sh

cargo build --release --quiet -p openhost -p openhost-bench --bin openhost --bin bare-warp
host_pid="$(start_release_host host "$host_addr")"
pids+=("$host_pid")
wait_for "http://$host_addr/healthz"
start_bare_warp "$host_addr" "$bare_addr"
mkdir -p "$out_dir"

# flame NAME PID ADDR: warms the server up, then samples it for $seconds under wrk.
flame() {
    wrk -t2 -c"$connections" -d1s "http://$3$route" >/dev/null
    perf record -q -F 499 --call-graph dwarf,16384 -p "$2" -o "$work/$1.data" -- sleep "$seconds" 2>/dev/null &
    local recording=$!
    wrk -t2 -c"$connections" -d"${seconds}s" "http://$3$route" | awk -v n="$1" '/Requests\/sec/ {print n ": " $2 " requests/s while sampled"}'
    wait "$recording"
    perf script -i "$work/$1.data" 2>/dev/null | inferno-collapse-perf | \
        inferno-flamegraph --minwidth 0.5 --title "$1: GET $route, wrk $connections connections" >"$out_dir/$1.svg"
    echo "wrote $out_dir/$1.svg"
}
flame host "$host_pid" "$host_addr"
flame bare "$bare_pid" "$bare_addr"
