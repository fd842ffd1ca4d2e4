#!/bin/sh
# deps.sh PACKAGE...: make sure these Debian packages are installed.
#
# Asks dpkg-query once. If some are missing: as root, runs apt-get update
# and installs them; otherwise prints the command to run and fails.
# On a system without dpkg it only lists what the build expects.
set -eu

[ "$#" -gt 0 ] || exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg here; make sure these are installed: $*" >&2
	exit 0
fi

# Every package not in state "install ok installed" (unknown ones included).
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
	awk '$2 == "ii" { print $1 }')
missing=
for pkg in "$@"; do
	printf '%s\n' "$installed" | grep -qxF "$pkg" || missing="$missing $pkg"
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run this, then try again:" >&2
	echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # one word per package
apt-get install -y -q --no-install-recommends $missing
