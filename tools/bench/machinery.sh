#!/usr/bin/env bash
# What the plugin machinery costs, every row as a ratio in one run (docs/benchmarks.md, "The plugin machinery"):
#   1. GET /healthz and GET /api/options/config: the open-source host (no plugins) over a bare warp server
#      answering the same bytes (target: >= 0.9x its requests/s);
#   2. GET /api/settings: a host on PostgreSQL over the same host on sled (target: >= 0.6x);
#   3. GET /api/settings: the host with the enterprise plugin, signed in (its session check on every request)
#      over the host without plugins (target: >= 0.95x, the check costing at most 5 %).
# Each pair is measured back to back, for ROUNDS rounds; each row gives both requests/s, both servers' CPU time
# per request (utime+stime from /proc/PID/stat over the run: steadier than requests/s on a shared machine) and
# the ratios; the last table gives each row's mean ratio against its target. Prints; asserts nothing. Needs wrk
# (installed if missing) and, for row 2, psql and PostgreSQL at OPENHOST_TEST_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test; the row is skipped without it).
#
#   tools/bench/machinery.sh [DURATION_SECS] [CONNECTIONS] [ROUNDS]      (defaults 8, 32, 3)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-8}"
connections="${2:-32}"
rounds="${3:-3}"
bare_addr="127.0.0.1:9941"
oss_addr="127.0.0.1:9942"
pg_addr="127.0.0.1:9943"
fake_addr="127.0.0.1:9944"
saas_addr="127.0.0.1:9945"
database_url="${OPENHOST_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

source tools/bench/common.sh

cargo build --release --quiet -p openhost -p openhost-bench -p openhost-enterprise -p openhost-tests \
    --lib --bin openhost --bin bare-warp --bin fake-github

# The open-source host, and the bare server answering its very bytes.
oss_pid="$(start_release_host oss "$oss_addr")"
pids+=("$oss_pid")
wait_for "http://$oss_addr/healthz"
start_bare_warp "$oss_addr" "$bare_addr"
settings='{"language": "en", "llm_model": "anthropic/claude-sonnet-4-5-20250929", "llm_api_key": "sk-bench"}'
curl -fs -X POST -H 'content-type: application/json' -d "$settings" "http://$oss_addr/api/settings" >/dev/null

# The same host on PostgreSQL, in a schema of its own.
pg_pid=""
schema="bench_$$_$(date +%s)"
if command -v psql >/dev/null && psql -q "$database_url" -c "CREATE SCHEMA $schema" 2>/dev/null; then
    separator="?"; [[ "$database_url" == *"?"* ]] && separator="&"
    export BENCH_DATABASE_URL="${database_url}${separator}options=-c%20search_path%3D${schema}"
    BENCH_HOST_KEY="$(head -c 32 /dev/urandom | base64 -w0)"
    export BENCH_HOST_KEY
    pg_pid="$(start_release_host postgres "$pg_addr" 'store = "postgres"
database_url = "${BENCH_DATABASE_URL}"
secret_key = "${BENCH_HOST_KEY}"')"
    pids+=("$pg_pid")
    wait_for "http://$pg_addr/healthz"
    curl -fs -X POST -H 'content-type: application/json' -d "$settings" "http://$pg_addr/api/settings" >/dev/null
    trap 'psql -q "$database_url" -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 || true; cleanup' EXIT
else
    echo "no PostgreSQL at $database_url: the PostgreSQL row is skipped" >&2
fi

# The host with the enterprise plugin, signed in by curl through the fake GitHub.
start_fake_github "$fake_addr"
mkdir -p "$work/saas/plugins"
cp target/release/libopenhost_enterprise.so "$work/saas/plugins/"
saas_pid="$(start_release_host saas "$saas_addr" "github_api_url = \"http://$fake_addr\"
$(enterprise_toml "$saas_addr" "$fake_addr")")"
pids+=("$saas_pid")
wait_for "http://$saas_addr/healthz"
session="$(sign_in "$saas_addr")"
curl -fs -X POST "http://$saas_addr/api/settings" -H "Cookie: openhost_session=$session" \
    -H 'content-type: application/json' -d "$settings" >/dev/null
curl -fs "http://$saas_addr/api/settings" -H "Cookie: openhost_session=$session" >/dev/null

echo "wrk: 2 threads, $connections connections, ${duration}s per measurement; every server on this machine"
echo
echo "| row | round | base | base req/s | measured req/s | req/s ratio | base CPU µs/req | measured CPU µs/req | CPU ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
: >"$work/ratios"
# pair ROW BASE_LABEL BASE_PID BASE_URL PID URL [WRK_ARGS...]: measures base then measured, prints the row.
pair() {
    local row="$1" base="$2" base_pid="$3" base_url="$4" pid="$5" url="$6"
    shift 6
    read -r b_rps b_cpu _ <<<"$(measure "$base_pid" "$base_url" "$@")"
    read -r m_rps m_cpu _ <<<"$(measure "$pid" "$url" "$@")"
    awk -v row="$row" -v r="$round" -v base="$base" -v br="$b_rps" -v mr="$m_rps" -v bc="$b_cpu" -v mc="$m_cpu" \
        'BEGIN { printf "| %s | %d | %s | %d | %d | %.2f | %.1f | %.1f | %.2f |\n", row, r, base, br, mr, mr / br, bc, mc, mc / bc }'
    awk -v row="$row" -v br="$b_rps" -v mr="$m_rps" -v bc="$b_cpu" -v mc="$m_cpu" \
        'BEGIN { printf "%s\t%f\t%f\t%f\n", row, mr / br, mc, mc - bc }' >>"$work/ratios"
}
for round in $(seq 1 "$rounds"); do
    for path in /healthz /api/options/config; do
        pair "host \`GET $path\`" "bare warp" "$bare_pid" "http://$bare_addr$path" "$oss_pid" "http://$oss_addr$path"
    done
    if [[ -n "$pg_pid" ]]; then
        pair "PostgreSQL \`GET /api/settings\`" "sled" "$oss_pid" "http://$oss_addr/api/settings" \
            "$pg_pid" "http://$pg_addr/api/settings"
    fi
    pair "enterprise session \`GET /api/settings\`" "no plugins" "$oss_pid" "http://$oss_addr/api/settings" \
        "$saas_pid" "http://$saas_addr/api/settings" -H "Cookie: openhost_session=$session"
done

echo
echo "| row | mean req/s ratio | target | mean CPU µs/req | mean CPU µs/req over base |"
echo "|---|---|---|---|---|"
awk -F'\t' '
    { n[$1]++; ratio[$1] += $2; cpu[$1] += $3; extra[$1] += $4; if (!seen[$1]++) order[++rows] = $1 }
    END {
        for (i = 1; i <= rows; i++) {
            row = order[i]
            target = row ~ /^host/ ? 0.9 : row ~ /^PostgreSQL/ ? 0.6 : 0.95
            mean = ratio[row] / n[row]
            printf "| %s | %.2f | >= %.2f (%s) | %.1f | %+.1f |\n", row, mean, target, mean >= target ? "met" : "not met",
                cpu[row] / n[row], extra[row] / n[row]
        }
    }' "$work/ratios"
