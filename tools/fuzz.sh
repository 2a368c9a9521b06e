#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60) and prints a markdown row per target with
# libFuzzer's execution count. Installs cargo-fuzz if missing. A crash fails the script and leaves the input in
# fuzz/artifacts/TARGET/.  CI runs it with 5 seconds per target.
#
#   tools/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
# cargo-fuzz passes nightly `-Z` flags (sanitizer, coverage); this lets the one stable toolchain accept them.
export RUSTC_BOOTSTRAP=1

cargo fuzz build -O
echo "| target | seconds | executions | findings |"
echo "|---|---|---|---|"
for target in $(cargo fuzz list); do
    log="$(mktemp)"
    if ! cargo fuzz run -O "$target" -- -max_total_time="$seconds" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "| $target | $seconds | - | CRASH (see fuzz/artifacts/$target) |"
        exit 1
    fi
    runs="$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")"
    echo "| $target | $seconds | ${runs:-?} | 0 |"
    rm -f "$log"
done
