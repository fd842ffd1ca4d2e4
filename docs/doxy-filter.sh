#!/bin/sh
# SPDX-License-Identifier: MIT
#
# docs/doxy-filter.sh FILE: the header FILE as Doxygen should read it
# (docs/Doxyfile's INPUT_FILTER; the headers themselves are not changed).
#
# The public headers document with plain C comments, so this turns them
# into Doxygen comments on the way in, line for line (line numbers stay):
#   - the file's first block comment after the SPDX line, `/*` alone on a
#     line, becomes `/** \file`: the design note at the top of each header;
#   - any other comment that opens a line, `/* ...`, becomes `/** ...`: the
#     contract above a declaration;
#   - a comment after a member or an enumerator on the same line,
#     `x; /* ... */` or `X, /* ... */`, becomes `/**< ... */`.
# In comment lines, `<word>` (a placeholder, as in VOLT_SCHED=<name>) is
# escaped so that doxygen does not take it for an HTML tag. Lines of a
# multi-line macro (ending in a backslash) are left alone.
exec awk '
/^[ \t]*(\/\*|\*)/ { gsub(/<[a-zA-Z]/, "\\\\&") }
NR == 1 && /^\/\* SPDX/ { print; next }
/\\$/ { print; next }
!seen && /^\/\*[ \t]*$/ { seen = 1; print "/** \\file"; next }
/^[ \t]*\/\*[^*]/ || /^[ \t]*\/\*$/ { seen = 1; sub(/\/\*/, "/**"); print; next }
/[;,][ \t]*\/\*[^*<]/ { sub(/\/\*/, "/**<"); print; next }
{ if ($0 !~ /^[ \t]*$/ && $0 !~ /^#/) seen = 1; print }
' "$1"
