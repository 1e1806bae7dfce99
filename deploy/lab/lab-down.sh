#!/bin/bash
# Usage: lab-down.sh
#
# Stop every lab Postfix instance and end the slow transport's sleep
# processes, which `postfix stop` leaves running. Queued mail stays on disk;
# lab-up.sh starts the lab again. An instance whose main.cf was not written by
# lab-up.sh is left running. Run as root.
#
# Exit codes: 0 stopped, 1 failure, 2 usage error, 3 an instance was left
# running because the lab did not write its main.cf, 75 timed out waiting for
# the lab lock.
set -euo pipefail

case ${1:-} in
'') ;;
-h | --help)
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	printf 'lab-down.sh: unknown argument %s\n' "$1" >&2
	exit 2
	;;
esac

# shellcheck source=deploy/lab/lab-lib.sh
. "$(dirname "$0")/lab-lib.sh"
lab_require_root
lab_take_lock
if ! lab_stop_all; then
	exit 3
fi
lab_step "lab is down"
