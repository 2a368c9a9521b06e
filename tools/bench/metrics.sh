#!/usr/bin/env bash
# What metrics cost, in one run: two open-source hosts that differ only in `[host] metrics_listen` (off, on),
# `GET /api/settings` at CONNECTIONS connections, alternating for ROUNDS rounds, while the metrics host is scraped
# every second as Prometheus would (more often than its usual 15 s). Prints requests/s, the on/off ratio, p99 and
# each host's CPU time per request (utime+stime from /proc/PID/stat). Needs wrk (installed if missing).
#
#   tools/bench/metrics.sh [DURATION_SECS] [CONNECTIONS] [ROUNDS]      (defaults 10, 64, 3)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-10}"
connections="${2:-64}"
rounds="${3:-3}"
off_addr="127.0.0.1:9941"
on_addr="127.0.0.1:9942"
metrics_addr="127.0.0.1:9943"

source tools/bench/common.sh

cargo build --release --quiet -p openhost

off_pid="$(start_release_host off "$off_addr")"
on_pid="$(start_release_host on "$on_addr" "metrics_listen = \"$metrics_addr\"")"
pids+=("$off_pid" "$on_pid")
wait_for "http://$off_addr/healthz"
wait_for "http://$on_addr/healthz"
wait_for "http://$metrics_addr/metrics"
for addr in "$off_addr" "$on_addr"; do
    curl -fs -X POST -H 'content-type: application/json' -d '{"language": "en"}' "http://$addr/api/settings" >/dev/null
done
(while true; do curl -fs "http://$metrics_addr/metrics" >/dev/null || true; sleep 1; done) &
pids+=($!)

echo "wrk: 2 threads, $connections connections, ${duration}s per row; GET /api/settings"
echo
echo "| round | off req/s | on req/s | on/off | off p99 | on p99 | off CPU µs/req | on CPU µs/req | CPU on/off |"
echo "|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
    read -r f_rps f_cpu f_p99 <<<"$(measure "$off_pid" "http://$off_addr/api/settings")"
    read -r n_rps n_cpu n_p99 <<<"$(measure "$on_pid" "http://$on_addr/api/settings")"
    awk -v r="$round" -v fr="$f_rps" -v nr="$n_rps" -v fp="$f_p99" -v np="$n_p99" -v fc="$f_cpu" -v nc="$n_cpu" \
        'BEGIN { printf "| %d | %d | %d | %.3f | %s | %s | %.1f | %.1f | %.3f |\n", r, fr, nr, nr / fr, fp, np, fc, nc, nc / fc }'
done
echo
echo "samples in one scrape: $(curl -fs "http://$metrics_addr/metrics" | grep -vc '^#')"
