#!/usr/bin/env bash
# sled against PostgreSQL under the host, in one run: two open-source hosts that differ only in `[host] store`,
# GET and POST /api/settings (the user's sealed settings record: one read, or a compare-and-swap write made
# durable) at CONNECTIONS connections, alternating for ROUNDS rounds. Prints requests/s, p99 and the host's CPU
# per request (PostgreSQL's own CPU is not counted). The PostgreSQL host gets a fresh schema of
# OPENHOST_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); needs psql and wrk.
#
#   tools/bench/store.sh [DURATION_SECS] [CONNECTIONS] [ROUNDS]      (defaults 10, 64, 2)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-10}"
connections="${2:-64}"
rounds="${3:-2}"
sled_addr="127.0.0.1:9931"
pg_addr="127.0.0.1:9932"
database_url="${OPENHOST_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

source tools/bench/common.sh

cargo build --release --quiet -p openhost

schema="bench_$$_$(date +%s)"
psql -q "$database_url" -c "CREATE SCHEMA $schema"
separator="?"; [[ "$database_url" == *"?"* ]] && separator="&"
export BENCH_DATABASE_URL="${database_url}${separator}options=-c%20search_path%3D${schema}"
export BENCH_HOST_KEY="$(head -c 32 /dev/urandom | base64 -w0)"

sled_pid="$(start_release_host sled "$sled_addr")"
pg_pid="$(start_release_host postgres "$pg_addr" 'store = "postgres"
database_url = "${BENCH_DATABASE_URL}"
secret_key = "${BENCH_HOST_KEY}"')"
pids+=("$sled_pid" "$pg_pid")
wait_for "http://$sled_addr/healthz"
wait_for "http://$pg_addr/healthz"

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"language": "en", "llm_model": "anthropic/claude-sonnet-4-5-20250929", "llm_api_key": "sk-bench"}'
LUA
for addr in "$sled_addr" "$pg_addr"; do
    curl -fs -X POST -H 'content-type: application/json' -d '{"language": "en"}' "http://$addr/api/settings" >/dev/null
done

echo "wrk: 2 threads, $connections connections, ${duration}s per row; PostgreSQL 15 on the same machine"
echo
echo "| request | round | sled req/s | PostgreSQL req/s | PG/sled | sled p99 | PG p99 | sled CPU µs/req | PG host CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
    for request in GET POST; do
        args=(); [[ "$request" == POST ]] && args=(-s "$work/post.lua")
        read -r s_rps s_cpu s_p99 <<<"$(measure "$sled_pid" "http://$sled_addr/api/settings" "${args[@]}")"
        read -r p_rps p_cpu p_p99 <<<"$(measure "$pg_pid" "http://$pg_addr/api/settings" "${args[@]}")"
        awk -v q="$request" -v r="$round" -v sr="$s_rps" -v pr="$p_rps" -v sp="$s_p99" -v pp="$p_p99" \
            -v sc="$s_cpu" -v pc="$p_cpu" \
            'BEGIN { printf "| `%s /api/settings` | %d | %d | %d | %.2f | %s | %s | %.1f | %.1f |\n", q, r, sr, pr, pr / sr, sp, pp, sc, pc }'
    done
done
psql -q "$database_url" -c "DROP SCHEMA $schema CASCADE"
