#!/bin/bash
# Usage: deploy/systemd/verify.sh
#
# Check the unit files, with the drop-in for the queue actions, with `systemd-analyze verify` and the sysusers file
# with `systemd-sysusers --dry-run`. Needs no running systemd: both tools
# work on a temporary root directory that contains a copy of the system's unit
# directory, the units under test and a stub in place of the exporter binary
# (verify rejects an ExecStart= program that does not exist). Installs
# Debian's systemd package when systemd-analyze is missing (without booting
# it), which needs root.
#
# Exit codes: 0 clean, 1 a tool reported a problem, 2 a tool is missing.
set -euo pipefail

units_dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v systemd-analyze >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "verify.sh: systemd-analyze not found; install Debian's systemd package" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet.
	apt-get install -y -qq --no-install-recommends systemd >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends systemd >/dev/null; }
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system" "$root/usr/local/bin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
printf '#!/bin/sh\nexit 0\n' >"$root/usr/local/bin/postfix_queue_exporter"
chmod 755 "$root/usr/local/bin/postfix_queue_exporter"
cp "$units_dir/postfix_queue_exporter.service" "$units_dir/postfix_queue_exporter.socket" \
	"$root/etc/systemd/system/"
# The drop-in for the queue actions is checked together with the unit.
mkdir -p "$root/etc/systemd/system/postfix_queue_exporter.service.d"
cp "$units_dir/actions.conf" "$root/etc/systemd/system/postfix_queue_exporter.service.d/"

status=0
# verify exits 0 after warnings such as an unknown key, so any output
# counts as a failure.
output=$(systemd-analyze verify --root="$root" --man=no \
	/etc/systemd/system/postfix_queue_exporter.service \
	/etc/systemd/system/postfix_queue_exporter.socket 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$output" ]; then
	printf 'verify.sh: systemd-analyze verify failed (exit %d):\n%s\n' "$status" "$output" >&2
	exit 1
fi

if ! output=$(systemd-sysusers --root="$root" --dry-run \
	"$units_dir/postfix_queue_exporter.sysusers" 2>&1); then
	printf 'verify.sh: systemd-sysusers rejected postfix_queue_exporter.sysusers:\n%s\n' "$output" >&2
	exit 1
fi

echo "verify.sh: unit files and sysusers file are valid"
