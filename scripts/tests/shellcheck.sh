#!/usr/bin/env bash
# Runs shellcheck over every shell script in the repository: scripts/ (with scripts/lib, scripts/tests and the
# scripts/failoverctl launcher), bench/, emulators/, and the boot scripts of the CloudFormation stack's launch
# templates, which no test here runs and a first deploy depends on (extracted by scripts/tests/user-data.py).
# A shell script is a *.sh file, or a file whose first line is a sh or bash #! line. Run by scripts/test.sh
# (which installs shellcheck and the .venv this needs); exit 0 when shellcheck finds nothing, 1 otherwise.
# The extracted boot scripts stay in target/user-data/ to be read next to shellcheck's findings.
set -euo pipefail
cd "$(dirname "$0")/../.."

TEMPLATE=cloudformation/pgfailover.yaml

fail() { echo "tests/shellcheck.sh: FAILED: $*" >&2; exit 1; }

is_shell_script() {
  case $1 in *.sh) return 0 ;; esac
  head -n 1 "$1" | grep -qE '^#!.*[/ ](ba)?sh( |$)'
}

scripts=()
while IFS= read -r -d '' file; do
  if is_shell_script "$file"; then scripts+=("$file"); fi
done < <(find scripts bench emulators -type f -not -path 'bench/out/*' -print0 | sort -z)
[ "${#scripts[@]}" -gt 0 ] || fail "no shell scripts found under scripts/, bench/ and emulators/"

work=target/user-data
rm -rf "$work"
mkdir -p "$work"
# One extracted script a line; beside each, PATH.lines: line N holds the template line of the script's line N.
.venv/bin/python scripts/tests/user-data.py "$TEMPLATE" "$work" >"$work/index" \
  || fail "could not extract the boot scripts from $TEMPLATE"
boot_scripts=()
while read -r path; do boot_scripts+=("$path"); done <"$work/index"

# -x: follow `. scripts/lib/...` (paths from the repository root, where this runs) for what they define.
if ! shellcheck -x "${scripts[@]}" "${boot_scripts[@]}"; then
  # The boot scripts' findings again, at their lines in the template.
  shellcheck -x -f gcc "${boot_scripts[@]}" | while IFS=: read -r path line _ rest; do
    echo "tests/shellcheck.sh: $TEMPLATE:$(sed -n "${line}p" "$path.lines"):$rest (line $line of $path)" >&2
  done || true
  fail "shellcheck found the problems above"
fi
echo "tests/shellcheck.sh: ok (${#scripts[@]} scripts and ${#boot_scripts[@]} boot scripts of $TEMPLATE)"
