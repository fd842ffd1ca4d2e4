#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/migration_examples.sh: the pthreads -> Volt-C migration guide
# (docs/MIGRATION.md) and its programs (examples/migration/).
#
#   sh tests/migration_examples.sh [BUILD_DIR]     (or B=BUILD_DIR in the environment)
#
# Builds nothing: BUILD_DIR (default build) must hold examples/migration/*
# and examples/echo_server (make examples). Checks, one line each:
#   run NAME      every examples/migration/NAME.c was built and its program
#                 exits 0 within 60 s printing exactly one "result: " line;
#   pair NAME     NN_step_before and each other NN_step_* program (after,
#                 fiber, coro) print the same result line;
#   doc block N   every ```c block of docs/MIGRATION.md is preceded by a line
#                 naming "examples/migration/FILE.c" and appears verbatim in
#                 that file, so the guide cannot drift from the programs;
#   doc session   the guide's last ```sh block (the echo-server session) runs
#                 as written, except that its `make` lines are left out (the
#                 make target built them), build/ becomes BUILD_DIR/ and port
#                 7000 a free port; its output must be the echoed line.
# Then "migration examples: N passed, M failed"; exit status 1 on a failure.
set -u

B=${1:-${B:-build}}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
DOC=docs/MIGRATION.md
command -v python3 >/dev/null || { echo "migration_examples: python3 is missing" >&2; exit 2; }
[ -x "$B/examples/echo_server" ] || {
	echo "migration_examples: $B/examples/echo_server is missing: make examples" >&2
	exit 2
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/migration.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
PASSED=0 FAILED=0

ok() { echo "ok $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }

# ------------------------------------------------------------ the programs

for src in examples/migration/*.c; do
	name=$(basename "$src" .c)
	bin=$B/examples/migration/$name
	if [ ! -x "$bin" ]; then
		fail "run $name" "$bin is missing (make examples)"
		continue
	fi
	timeout 60 "$bin" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	n=$(grep -c '^result: ' "$TMP/$name.out")
	if [ $rc -ne 0 ]; then
		fail "run $name" "exit status $rc: $(cat "$TMP/$name.err")"
	elif [ "$n" -ne 1 ]; then
		fail "run $name" "$n result lines"
	else
		grep '^result: ' "$TMP/$name.out" >"$TMP/$name.result"
		ok "run $name"
	fi
done

for before in examples/migration/*_before.c; do
	step=$(basename "$before" _before.c)
	[ -f "$TMP/${step}_before.result" ] || continue
	others=0
	for other in examples/migration/"$step"_*.c; do
		name=$(basename "$other" .c)
		[ "$name" = "${step}_before" ] && continue
		others=$((others + 1))
		if [ ! -f "$TMP/$name.result" ]; then
			fail "pair $name" "it did not run"
		elif cmp -s "$TMP/${step}_before.result" "$TMP/$name.result"; then
			ok "pair $name"
		else
			fail "pair $name" "'$(cat "$TMP/$name.result")' is not '$(cat "$TMP/${step}_before.result")'"
		fi
	done
	[ $others -gt 0 ] || fail "pair $step" "a before program with no after"
done

# ---------------------------------------------------- the guide's C blocks

python3 - "$DOC" >"$TMP/doc" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
lines = text.split("\n")
n = 0
i = 0
while i < len(lines):
    if lines[i].strip() == "```c":
        n += 1
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        block = "\n".join(lines[i + 1:j]) + "\n"
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        m = re.search(r"examples/migration/([\w.]+\.c)", lines[k] if k >= 0 else "")
        if not m:
            print("FAIL doc block %d (line %d): no 'from examples/migration/FILE.c' above it" % (n, i + 1))
        else:
            try:
                src = open("examples/migration/" + m.group(1)).read()
            except OSError:
                src = None
            if src is None:
                print("FAIL doc block %d (line %d): examples/migration/%s does not exist" % (n, i + 1, m.group(1)))
            elif block not in src:
                print("FAIL doc block %d (line %d): not verbatim in examples/migration/%s" % (n, i + 1, m.group(1)))
            else:
                print("ok doc block %d (%s)" % (n, m.group(1)))
        i = j
    i += 1
if n == 0:
    print("FAIL doc blocks: no ```c block in " + sys.argv[1])
PY
while IFS= read -r line; do
	echo "$line"
	case $line in
	ok*) PASSED=$((PASSED + 1)) ;;
	*) FAILED=$((FAILED + 1)) ;;
	esac
done <"$TMP/doc"

# ------------------------------------------------ the echo-server session

# A port nothing listens on (counting up from 20000 + $$ % 12000).
PORT=$((20000 + $$ % 12000))
while [ -n "$(awk -v p=":$(printf '%04X' "$PORT")" \
	'$4 == "0A" && substr($2, length($2) - 4) == p' /proc/net/tcp /proc/net/tcp6 2>/dev/null)" ]; do
	PORT=$((PORT + 1))
done
awk '/^```sh$/ { s = ""; inb = 1; next } /^```$/ { if (inb) last = s; inb = 0; next }
	inb { s = s $0 "\n" } END { printf "%s", last }' "$DOC" |
	grep -v '^make ' | sed -e "s#build/#$B/#g" -e "s#7000#$PORT#g" >"$TMP/session.sh"
if ! grep -q echo_server "$TMP/session.sh"; then
	fail "doc session" "no \`\`\`sh block starting echo_server at the end of $DOC"
else
	(cd "$ROOT" && timeout 60 sh "$TMP/session.sh") >"$TMP/session.out" 2>"$TMP/session.err"
	rc=$?
	if [ $rc -eq 0 ] && [ "$(cat "$TMP/session.out")" = "hello, volt" ]; then
		ok "doc session (echo_server on port $PORT)"
	else
		fail "doc session" "exit status $rc, output '$(cat "$TMP/session.out")': $(cat "$TMP/session.err")"
	fi
fi

echo "migration examples: $PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
