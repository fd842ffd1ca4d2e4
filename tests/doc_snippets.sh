#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/doc_snippets.sh: every ```c block of README.md and docs/*.md compiles.
#
# Usage: B=build sh tests/doc_snippets.sh [FILE.md...]
#
# The code is the truth: a block that does not compile is a wrong document.
# Each block is cut out of its page into $B/doc-snippets/ and compiled
# against include/ as one of three kinds:
#
#   program  the block defines main(): compiled as a user would (-std=c11,
#            no feature macros) with -Wall -Wextra -Werror and linked
#            against $B/libvolt.a (not run).
#   file     file-scope code (the first code line defines a struct, union
#            or enum, or opens with typedef, static, #include or #define): the prelude, then the block,
#            checked with -fsyntax-only.
#   body     anything else: statements, put inside a poll function
#
#                static enum volt_poll snippet(struct volt_future *f,
#                                             struct volt_cx *cx)
#                {
#                        struct volt_rt *rt = NULL; void *arg = NULL;
#                        <the "with" declarations>
#                        VOLT_BEGIN(f); <the block> VOLT_END(f);
#                }
#
#            so `rt`, `arg`, `f`, `cx` and the coroutine macros are there.
#
# The prelude is <errno.h>, <stdint.h>, <stdio.h>, <stdlib.h>, <string.h>
# and <volt.h>. Warnings about unused names are off for `file` and `body`
# (a fragment declares what it does not use); every other warning fails.
#
# An HTML comment on the line right before the fence changes the kind:
#   <!-- snippet: file -->          force `file`
#   <!-- snippet: body -->          force `body`
#   <!-- snippet: with DECLS -->    `body` (or `file` if detected), DECLS
#                                   declared first (e.g. the task's `self`)
#   <!-- snippet: skip (reason) --> not compiled; counted and listed
# docs/MIGRATION.md is left out: its programs are checked by `make examples`.
#
# Prints one line per failure with the compiler's output, then
# "N passed, N failed" (skips listed separately); exits 1 on any failure.
set -u

B=${B:-build}
CC=${CC:-gcc}
LIB=$B/libvolt.a
OUT=$B/doc-snippets
LDLIBS="-lhwloc -luring -pthread -lm"
QUIET="-Wno-unused-variable -Wno-unused-function -Wno-unused-but-set-variable \
-Wno-unused-label -Wno-unused-parameter -Wno-unused-value"

if [ "$#" -eq 0 ]; then
	set -- README.md
	for f in docs/*.md; do
		[ "$f" = docs/MIGRATION.md ] || set -- "$@" "$f"
	done
fi
if [ ! -f "$LIB" ]; then
	echo "doc_snippets: $LIB is missing (make B=$B first)" >&2
	exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"

# Cut the blocks: OUT/N.c holds block N, OUT/N.meta "page line kind decls".
for md in "$@"; do
	base=$(find "$OUT" -name '*.c' | wc -l)
	awk -v md="$md" -v out="$OUT" -v count="$base" '
	/^<!-- snippet:/ {
		marker = $0
		sub(/^<!-- snippet:[ \t]*/, "", marker)
		sub(/[ \t]*-->[ \t]*$/, "", marker)
		next
	}
	!inblock && /^```c[ \t]*$/ {
		inblock = 1
		n = 0
		start = NR
		m = marker
		marker = ""
		next
	}
	inblock && /^```/ {
		inblock = 0
		id = sprintf("%s/%03d", out, ++count)
		printf "%s", body > (id ".c")
		close(id ".c")
		printf "%s\t%d\t%s\n", md, start, m > (id ".meta")
		close(id ".meta")
		body = ""
		next
	}
	inblock { body = body $0 "\n"; next }
	/^[ \t]*$/ { next }
	{ marker = "" }
	' "$md"
done

prelude() {
	printf '#include <errno.h>\n#include <stdint.h>\n#include <stdio.h>\n'
	printf '#include <stdlib.h>\n#include <string.h>\n#include <volt.h>\n'
}

pass=0
fail=0
skip=0
skipped=
kinds=
for src in "$OUT"/*.c; do
	[ -e "$src" ] || break
	meta=${src%.c}.meta
	page=$(cut -f1 "$meta")
	line=$(cut -f2 "$meta")
	marker=$(cut -f3- "$meta")
	where="$page:$line"
	decls=
	kind=
	case "$marker" in
	skip*)
		skip=$((skip + 1))
		skipped="$skipped
  $where: $marker"
		continue ;;
	file) kind="file" ;;
	body) kind=body ;;
	with\ *) decls=${marker#with } ;;
	"") ;;
	*)
		echo "FAIL $where: unknown marker '<!-- snippet: $marker -->'"
		fail=$((fail + 1))
		continue ;;
	esac
	if [ -z "$kind" ]; then
		if grep -Eq '^(int|static int) +main *\(' "$src"; then
			kind=program
		elif grep -v -E '^[[:space:]]*(/\*.*)?$' "$src" | head -1 |
			grep -Eq '^((struct|union|enum) [A-Za-z_0-9]+ *\{|typedef|static|#include|#define)'; then
			kind="file"
		else
			kind=body
		fi
	fi
	unit=${src%.c}.unit.c
	case "$kind" in
	program)
		cp "$src" "$unit"
		cmd="$CC -std=c11 -Wall -Wextra -Werror -Iinclude -o ${src%.c}.bin $unit $LIB $LDLIBS" ;;
	file)
		{ prelude; printf '%s\n' "$decls"; printf '#line %d "%s"\n' $((line + 1)) "$page"; cat "$src"; } >"$unit"
		cmd="$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $QUIET -Iinclude -fsyntax-only $unit" ;;
	body)
		{
			prelude
			printf 'static enum volt_poll snippet(struct volt_future *f, struct volt_cx *cx)\n{\n'
			printf '\tstruct volt_rt *rt = NULL;\n\tvoid *arg = NULL;\n'
			printf '%s\n' "$decls"
			printf '\t(void)rt; (void)arg;\n\tVOLT_BEGIN(f);\n'
			printf '#line %d "%s"\n' $((line + 1)) "$page"
			cat "$src"
			printf ';\n\tVOLT_END(f);\n}\n'
		} >"$unit"
		cmd="$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $QUIET -Iinclude -fsyntax-only $unit" ;;
	esac
	if log=$($cmd 2>&1); then
		pass=$((pass + 1))
		kinds="$kinds $kind"
	else
		fail=$((fail + 1))
		echo "FAIL $where ($kind): $unit"
		printf '%s\n' "$log" | sed 's/^/    /' | head -20
	fi
done

if [ "$skip" -gt 0 ]; then
	echo "doc_snippets: $skip skipped:$skipped"
fi
# shellcheck disable=SC2086 # one word per kind
count() { printf '%s\n' $kinds | grep -cx "$1"; }
echo "doc_snippets: $(count program) programs linked, $(count file) file-scope" \
	"and $(count body) statement fragments compiled"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
