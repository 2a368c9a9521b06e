#!/usr/bin/env bash
# Checks that every way of building this workspace enables the same features on every shared dependency
# (tools/workspace-hack/src/lib.rs says why). Prints the differences and exits 1 if there are any: add the
# union to tools/workspace-hack/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."
tree() { cargo tree "$@" -f '{p} [{f}]' --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u; }
reference="$(mktemp)"
tree --workspace -e normal,build,dev >"$reference"
status=0
for build in "--workspace --exclude openhost-tests -e normal,build" "-p openhost-tests -e normal,build" \
             "-p openhost-xtask -e normal,build" "--workspace -e normal,build"; do
    # shellcheck disable=SC2086
    differences="$(tree $build | python3 -c '
import re, sys
# A package built both as a build dependency and as a normal one is listed twice (cargo unifies their features
# apart): the union of its lists is compared.
def load(lines):
    features = {}
    for line in lines:
        m = re.match(r"^(\S+ v\S+)(?: \(.*?\))? \[(.*)\]$", line.strip())
        if m:
            features.setdefault(m.group(1), set()).update(f for f in m.group(2).split(",") if f)
    return {package: ",".join(sorted(enabled)) for package, enabled in features.items()}
reference = load(open(sys.argv[1]))
for package, enabled in sorted(load(sys.stdin).items()):
    if package in reference and reference[package] != enabled:
        print(f"  {package}: [{enabled}] here, [{reference[package]}] in cargo test --workspace")
' "$reference")"
    if [ -n "$differences" ]; then
        echo "cargo build $build:"
        echo "$differences"
        status=1
    fi
done
rm -f "$reference"
exit "$status"
