#!/bin/bash
# Usage: capture.sh
#
# Record what postsuper prints for the operations the exporter runs, on
# messages that this script puts into the loopback lab itself (sender
# postsuper-capture@capture.example.test) and removes again at the end. Other
# mail in the lab is never named. Run as root with the lab up
# (deploy/lab/lab-up.sh) and sudo installed; it takes the lab lock.
#
# Each case NAME leaves NAME.stderr and NAME.cmd (the command line and its
# exit status) in this directory. Queue ids in the outputs are the real ids
# of the run. postsuper prints nothing on stdout, and the script fails if
# that changes.
set -euo pipefail
cd "$(dirname "$0")"

exec {lock}>>/run/postfix-lab.lock
flock -w 300 "$lock"

sender=postsuper-capture@capture.example.test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Print the queue ids of this script's messages in queue $1 (any queue when empty).
my_ids() {
	postqueue -j | jq -r --arg s "$sender" --arg q "${1:-}" \
		'select(.sender == $s and ($q == "" or .queue_name == $q)) | .queue_id'
}

# capture NAME STDIN COMMAND...: run COMMAND with STDIN as its input.
capture() {
	local name=$1 input=$2 rc=0
	shift 2
	printf '%s' "$input" | "$@" >"$tmp/stdout" 2>"$name.stderr" || rc=$?
	if [ -s "$tmp/stdout" ]; then
		echo "capture.sh: $name printed on stdout: $(cat "$tmp/stdout")" >&2
		exit 1
	fi
	printf '%s\nexit %d\n' "$*" "$rc" >"$name.cmd"
	printf '%-28s exit %d: %s\n' "$name" "$rc" "$(tr '\n' '|' <"$name.stderr")"
}

wait_deferred() {
	local want=$1 i
	for i in $(seq 100); do
		[ "$(my_ids deferred | wc -l)" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "capture.sh: messages did not reach the deferred queue" >&2
	exit 1
}

# Relayed to [127.0.0.1]:2525, where nothing listens, so each is deferred.
for i in 1 2 3 4 5 6 7 8; do
	printf 'Subject: postsuper capture %d\n\nbody\n' "$i" |
		sendmail -f "$sender" "rcpt$i@capture.example.test"
done
wait_deferred 8
mapfile -t ids < <(my_ids deferred | sort)
nl=$'\n'

capture hold-one "${ids[0]}$nl" postsuper -h - deferred
capture hold-two "${ids[1]}$nl${ids[2]}$nl" postsuper -h - deferred
capture hold-again "${ids[0]}$nl" postsuper -h - deferred
capture hold-from-hold "${ids[0]}$nl" postsuper -h - hold
capture release-one "${ids[0]}$nl" postsuper -H - hold
capture release-two "${ids[1]}$nl${ids[2]}$nl" postsuper -H - hold
capture release-from-deferred "${ids[3]}$nl" postsuper -H - deferred
capture requeue-one "${ids[3]}$nl" postsuper -r - deferred
capture requeue-two "${ids[4]}$nl${ids[5]}$nl" postsuper -r - deferred
# pickup takes requeued mail out of maildrop within 60 s; act on one
# requeued message while it is still there.
echo "in maildrop now: $(my_ids maildrop | tr '\n' ' ')"
capture hold-from-maildrop "${ids[3]}$nl" postsuper -h - maildrop
capture requeue-from-maildrop "${ids[3]}$nl" postsuper -r - maildrop
capture delete-from-maildrop "${ids[4]}$nl" postsuper -d - maildrop
capture delete-one "${ids[6]}$nl" postsuper -d - deferred
capture delete-unknown "${ids[6]}$nl" postsuper -d - deferred
capture delete-two "${ids[0]}$nl${ids[1]}$nl" postsuper -d - deferred
capture hold-for-requeue "${ids[7]}$nl" postsuper -h - deferred
capture requeue-from-hold "${ids[7]}$nl" postsuper -r - hold
capture hold-for-delete "${ids[2]}$nl" postsuper -h - deferred
capture delete-from-hold "${ids[2]}$nl" postsuper -d - hold
capture delete-bad-id "../x$nl" postsuper -d - deferred
capture delete-bad-queue "${ids[7]}$nl" postsuper -d - bogus
capture delete-nonroot "${ids[7]}$nl" runuser -u nobody -- postsuper -d - deferred
capture sudo-no-rule "${ids[7]}$nl" runuser -u nobody -- sudo -n postsuper -d - deferred

# Remove every message of this script, wherever it is now. Requeued mail
# gets a new id when pickup copies it out of maildrop.
sleep 1
for queue in maildrop incoming active deferred hold; do
	my_ids "$queue" | postsuper -d - "$queue" 2>/dev/null || true
done
for i in $(seq 70); do
	[ "$(my_ids | wc -l)" -eq 0 ] && break
	sleep 1
	for queue in maildrop incoming active deferred hold; do
		my_ids "$queue" | postsuper -d - "$queue" 2>/dev/null || true
	done
done
echo "left in the lab from this script: $(my_ids | wc -l)"
