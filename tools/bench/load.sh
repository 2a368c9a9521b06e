#!/usr/bin/env bash
# Load benchmark against the fake GitHub, everything on loopback. Installs wrk (Debian package) if missing,
# builds release binaries, and in one run measures:
#   1. the open-source host, no plugins: GET /api/options/config, GET /api/user/repositories, GET /api/settings;
#   2. the same host with the enterprise plugin: GET /api/settings with a session cookie (signed in through the
#      fake GitHub's OAuth flow by curl).
# Prints requests/s and p50/p99 latency as markdown rows. Every server stops when the script ends (trap).
#
#   tools/bench/load.sh [DURATION_SECS] [CONNECTIONS]      (defaults 10 and 32)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration="${1:-10}"
connections="${2:-32}"
fake_addr="127.0.0.1:9911"
oss_addr="127.0.0.1:9912"
saas_addr="127.0.0.1:9913"

source tools/bench/common.sh

cargo build --release --quiet -p openhost -p openhost-enterprise -p openhost-tests --lib --bin openhost --bin fake-github

start_fake_github "$fake_addr"

# start_host NAME ADDR [EXTRA_TOML]: a host with its own data and plugin directories.
start_host() {
    local name="$1" addr="$2" extra="${3:-}"
    mkdir -p "$work/$name/plugins"
    cat >"$work/$name/plugins.toml" <<TOML
[host]
listen = "$addr"
data_dir = "data"
plugin_dir = "plugins"
github_api_url = "http://$fake_addr"
rate_limit_per_sec = 0
$extra
TOML
    RUST_LOG=warn target/release/openhost serve --config "$work/$name/plugins.toml" >"$work/$name/host.log" 2>&1 &
    pids+=($!)
    wait_for "http://$addr/healthz"
}

run() {
    local label="$1" url="$2" cookie="${3:-}" out
    if [ -n "$cookie" ]; then
        out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Cookie: openhost_session=$cookie" "$url")"
    else
        out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$url")"
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$label" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)"
}

start_host oss "$oss_addr"
curl -fs -X POST "http://$oss_addr/api/add-git-providers" -H 'content-type: application/json' \
    -d "{\"provider_tokens\":{\"github\":{\"token\":\"$fake_pat\",\"host\":null}}}" >/dev/null
curl -fs -X POST "http://$oss_addr/api/settings" -H 'content-type: application/json' -d '{"language":"en"}' >/dev/null

mkdir -p "$work/saas/plugins"
cp target/release/libopenhost_enterprise.so "$work/saas/plugins/"
start_host saas "$saas_addr" "$(enterprise_toml "$saas_addr" "$fake_addr")"
session="$(sign_in "$saas_addr")"
curl -fs -X POST "http://$saas_addr/api/settings" -H "Cookie: openhost_session=$session" \
    -H 'content-type: application/json' -d '{"language":"en"}' >/dev/null

echo "wrk: 2 threads, $connections connections, ${duration}s per row; hosts and fake GitHub on this machine"
echo
echo "| request | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "no plugins: GET /api/options/config" "http://$oss_addr/api/options/config"
run "no plugins: GET /api/user/repositories?per_page=30" "http://$oss_addr/api/user/repositories?per_page=30"
run "no plugins: GET /api/settings" "http://$oss_addr/api/settings"
run "enterprise: GET /api/settings (session cookie)" "http://$saas_addr/api/settings" "$session"
run "no plugins: GET /api/settings (again)" "http://$oss_addr/api/settings"
