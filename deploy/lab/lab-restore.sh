#!/bin/bash
# Usage: lab-restore.sh [--instance CONFIG_DIR]
#
# Enable qmgr and pickup again after lab-populate.sh disabled them, so mail
# moves: maildrop goes through pickup to incoming, incoming to active, and on
# to deferred. The slow transport's sleep processes are ended first, so their
# mail is deferred once ("Command died with signal 15") and becomes active
# again under the new qmgr. Waits until maildrop and incoming are empty.
# Run as root. Acts on every lab instance unless --instance names one.
#
# Exit codes: 0 restored, 1 failure, 2 usage error, 75 timed out waiting for
# the lab lock.
set -euo pipefail

usage() {
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
}

only=
while [ $# -gt 0 ]; do
	case $1 in
	--instance)
		if [ $# -lt 2 ]; then
			printf 'lab-restore.sh: --instance needs a config directory\n' >&2
			exit 2
		fi
		only=$2
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		printf 'lab-restore.sh: unknown argument %s\n' "$1" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done

# shellcheck source=deploy/lab/lab-lib.sh
. "$(dirname "$0")/lab-lib.sh"
lab_require_root
lab_take_lock

for dir in ${only:-$(lab_instance_dirs)}; do
	lab_require_lab_instance "$dir"
	lab_restore_services "$dir"
	lab_wait_settled "$dir" 120
	lab_step "$dir settled (maildrop incoming active deferred hold: $(lab_counts "$dir"))"
done
