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
