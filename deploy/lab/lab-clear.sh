#!/bin/bash
# Usage: lab-clear.sh
#
# Delete all mail of every lab instance (postsuper -d ALL, maildrop included),
# end the slow transport's sleep processes, enable qmgr and pickup again if
# lab-populate.sh disabled them, and wait until the five queues are empty.
# Works while Postfix is stopped too. Run as root. An instance whose main.cf
# was not written by lab-up.sh keeps its mail.
#
# Exit codes: 0 queues empty, 1 failure, 2 usage error, 3 an instance was
# skipped because the lab did not write its main.cf, 75 timed out waiting for
# the lab lock.
set -euo pipefail

case ${1:-} in
'') ;;
-h | --help)
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	printf 'lab-clear.sh: unknown argument %s\n' "$1" >&2
	exit 2
	;;
esac

# shellcheck source=deploy/lab/lab-lib.sh
. "$(dirname "$0")/lab-lib.sh"
lab_require_root
lab_take_lock
command -v postconf >/dev/null 2>&1 || lab_die "Postfix is not installed; run lab-up.sh first"

# delete_all removes every message of config dir $1. postsuper -d ALL covers
# hold, incoming, active and deferred; maildrop must be named.
delete_all() {
	postsuper -c "$1" -d ALL 2>/dev/null
	postsuper -c "$1" -d ALL maildrop 2>/dev/null
}

queues_empty() {
	[ "$(lab_counts "$1")" = "0 0 0 0 0" ]
}

skipped=0
for dir in $(lab_instance_dirs); do
	if ! grep -qxF "$LAB_MARKER" "$dir/main.cf" 2>/dev/null; then
		lab_step "skipping $dir: its main.cf was not written by lab-up.sh"
		skipped=1
		continue
	fi
	delete_all "$dir"
	lab_kill_sleepers "$dir"
	if postfix -c "$dir" status >/dev/null 2>&1; then
		lab_restore_services "$dir"
	fi
	# Mail in flight during the deletion comes back: pickup may still submit
	# a maildrop file that it had opened, and a delivery agent may still write
	# a bounce. So delete again until the queues stay empty in three checks
	# 0.3 s apart.
	deadline=$((SECONDS + 30))
	empty_checks=0
	while [ "$empty_checks" -lt 3 ]; do
		sleep 0.3
		if queues_empty "$dir"; then
			empty_checks=$((empty_checks + 1))
			continue
		fi
		empty_checks=0
		if [ "$SECONDS" -ge "$deadline" ]; then
			lab_die "queues of $dir are still not empty after 30 s (maildrop incoming active deferred hold: $(lab_counts "$dir"))"
		fi
		delete_all "$dir"
		lab_kill_sleepers "$dir"
	done
	lab_step "cleared $dir"
done
if [ "$skipped" -eq 1 ]; then
	exit 3
fi
