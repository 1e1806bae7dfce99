#!/bin/bash
# Usage: lab-populate.sh [--instance CONFIG_DIR] [--bulk N]
#
# Put mail into every queue of a running lab instance (default /etc/postfix).
# Run as root, after lab-up.sh. Run lab-clear.sh first for an exact queue:
# this script adds mail to whatever is queued.
#
# Without --bulk it injects a mixed set of 24 messages and leaves:
#   maildrop  3  (pickup is disabled)
#   incoming  3  (qmgr is disabled)
#   active    2  (slow transport, running sleep for a day)
#   deferred 13  reasons: connection refused on 127.0.0.1:2525, a retry:
#                text with quotes and a backslash, 450 from smtp-sink,
#                "deferred transport". Among them: a null sender, a bounce
#                from MAILER-DAEMON, a quoted local part, a 1 MB message
#                and one force-expired message.
#   hold      3  (two by header_checks, one of them force-expired; one by
#                postsuper -h)
# qmgr and pickup stay disabled afterwards, so no mail moves until
# lab-restore.sh (or lab-up.sh) enables them again.
#
#   --instance CONFIG_DIR  populate the instance with this config directory
#   --bulk N               inject only N messages with smtp-source through
#                          127.0.0.1:25 of the primary instance, wait until all
#                          of them are deferred, and leave qmgr and pickup on
#
# Exit codes: 0 populated, 1 failure, 2 usage error, 75 timed out waiting for
# the lab lock.
set -euo pipefail

usage() {
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
}

bulk=0
dir=/etc/postfix
while [ $# -gt 0 ]; do
	case $1 in
	--instance | --bulk)
		if [ $# -lt 2 ]; then
			printf 'lab-populate.sh: %s needs a value\n' "$1" >&2
			exit 2
		fi
		if [ "$1" = --bulk ]; then bulk=$2; else dir=$2; fi
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		printf 'lab-populate.sh: unknown argument %s\n' "$1" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done
if ! [[ $bulk =~ ^[0-9]+$ ]]; then
	printf 'lab-populate.sh: invalid --bulk value %s: expected a message count\n' "$bulk" >&2
	exit 2
fi

# shellcheck source=deploy/lab/lab-lib.sh
. "$(dirname "$0")/lab-lib.sh"
lab_require_root
lab_take_lock
lab_require_lab_instance "$dir"

# Mail must move while it is injected.
lab_restore_services "$dir"
lab_wait_settled "$dir" 120

# bulk_done succeeds once the bulk mail has left maildrop, incoming and active.
bulk_done() {
	[ "$(lab_count "$dir" maildrop)" -eq 0 ] && [ "$(lab_count "$dir" incoming)" -eq 0 ] &&
		[ "$(lab_count "$dir" active)" -le "$active_before" ] &&
		[ "$(lab_count "$dir" deferred)" -ge $((deferred_before + bulk)) ]
}

# 1. --bulk: N single-recipient messages over SMTP. Settling is judged from
# file counts, because postqueue opens every queue file and polling it would
# slow down a large queue.
if [ "$bulk" -gt 0 ]; then
	if [ "$dir" != "$LAB_PRIMARY_DIR" ]; then
		lab_die "--bulk needs the SMTP listener on 127.0.0.1:25 of the primary instance; secondary instances have none"
	fi
	active_before=$(lab_count "$dir" active)
	deferred_before=$(lab_count "$dir" deferred)
	lab_step "injecting $bulk messages with smtp-source"
	smtp-source -s 10 -d -l 512 -m "$bulk" -M bulk.lab.invalid -f bulk@example.org -t bulk@example.net 127.0.0.1:25
	lab_step "smtp-source finished, waiting until the messages are deferred"
	timeout=$((60 + bulk / 100))
	lab_wait_for "$timeout" bulk_done ||
		lab_die "bulk mail did not settle within $timeout s (maildrop incoming active deferred hold: $(lab_counts "$dir"))"
	lab_step "populated $dir (maildrop incoming active deferred hold: $(lab_counts "$dir"))"
	exit 0
fi

# send injects one message with sendmail: sender, subject, then recipients.
send() {
	local from=$1 subject=$2
	shift 2
	printf 'From: %s\nTo: %s\nSubject: %s\n\nlab message: %s\n' "$from" "$*" "$subject" "$subject" |
		sendmail -C "$dir" -f "$from" -- "$@"
}

# queue_ids prints the queue IDs of the messages whose listing line (from
# postqueue -j) contains the fixed string $1, one per line.
queue_ids() {
	postqueue -c "$dir" -j | grep -F -- "$1" | sed -n 's/.*"queue_id": "\([^"]*\)".*/\1/p' || true
}

# queue_id prints the queue ID of the message with recipient $1 that this run
# injected. Messages queued before the run (listed in $old_ids) are ignored.
queue_id() {
	local candidate id=
	for candidate in $(queue_ids "\"address\": \"$1\""); do
		if ! grep -qxF -- "$candidate" <<<"$old_ids"; then
			id="$id $candidate"
		fi
	done
	id=${id# }
	[ "$(wc -w <<<"$id")" -eq 1 ] || lab_die "expected one new queued message for $1, found: ${id:-none}"
	printf '%s\n' "$id"
}

# 2. smtp-sink answers RCPT TO with 450 on 127.0.0.1:2526, the next hop of
# tempfail.example.test, while the mail is delivered.
sink_pid=
stop_sink() {
	if [ -n "$sink_pid" ]; then
		kill "$sink_pid" 2>/dev/null || true
		wait "$sink_pid" 2>/dev/null || true
		sink_pid=
	fi
}
trap stop_sink EXIT
if ss -Hltn "sport = :$LAB_SINK_PORT" | grep -q .; then
	lab_die "127.0.0.1:$LAB_SINK_PORT is in use; smtp-sink needs it for tempfail.example.test"
fi
(lab_exec_without_lock smtp-sink -u nobody -r RCPT "127.0.0.1:$LAB_SINK_PORT" 16 </dev/null) &
sink_pid=$!
sink_listening() {
	ss -Hltn "sport = :$LAB_SINK_PORT" | grep -q .
}
lab_wait_for 10 sink_listening || lab_die "smtp-sink did not listen on 127.0.0.1:$LAB_SINK_PORT within 10 s"

# 3. Mail that ends up deferred, held or active.
old_ids=$(queue_ids '"queue_id"')
lab_step "injecting deferred, hold and active mail into $dir"
send alice@example.org 'refused 1' bob@example.net
send alice@example.org 'refused 2' carol@example.com
send bob@example.com 'five recipients' r1@example.net r2@example.net r3@example.com r4@example.org r5@example.net
send carol@example.net 'four outcomes' m1@example.net m2@retry.example.test m3@tempfail.example.test m4@discard.example.test
send dave@example.org 'retry transport' u1@retry.example.test
send dave@example.org 'smtp-sink 450' t1@tempfail.example.test
send erin@example.com 'deferred transport' d1@deferme.example.test
send frank@example.org 'fast flush domain' f1@flush.example.test
send '<>' 'null sender' postmaster@example.com
send '"john smith"@example.org' 'quoted local part' '"jane doe"@example.net'
{
	printf 'From: ivan@example.org\nTo: big@example.com\nSubject: 1 MB message\n\n'
	head -c 1000000 /dev/zero | tr '\0' 'x' | fold -w 76
} | sendmail -C "$dir" -f ivan@example.org -- big@example.com
# The error transport bounces this one, and the bounce from MAILER-DAEMON to
# heidi@example.net is deferred in its place.
send heidi@example.net 'error transport' x1@error.example.test
send judy@example.org 'held by postsuper' held1@example.net
send judy@example.org 'force-expired' expired1@example.net
send kim@example.org 'HOLDME by header_checks' hold1@example.net
send kim@example.org 'HOLDME then force-expired' hold2@example.net hold3@example.org
send grace@example.org 'slow transport 1' s1@slow.example.test
send mallory@example.com 'slow transport 2' s2@slow.example.test
slow_active() {
	[ "$(postqueue -c "$dir" -j | grep -c '"queue_name": "active".*@slow\.example\.test"')" -ge 2 ]
}
lab_wait_settled "$dir" 60
lab_wait_for 30 slow_active || lab_die "the slow transport's mail did not become active within 30 s"
stop_sink

held_id=$(queue_id held1@example.net)
expired_id=$(queue_id expired1@example.net)
held_expired_id=$(queue_id hold2@example.net)
postsuper -c "$dir" -h "$held_id" 2>/dev/null
postsuper -c "$dir" -e "$expired_id" -e "$held_expired_id" 2>/dev/null
lab_step "deferred, hold and active mail is in place"

# 4. With qmgr disabled, pickup still moves new mail to incoming, where it
# stays. Wait until cleanup has finished every file (mode u+x).
incoming_before=$(lab_count "$dir" incoming)
lab_set_disabled "$dir" "$(lab_disabled_without_paused "$dir") qmgr/unix"
lab_wait_for 30 lab_has_no_child "$dir" qmgr || lab_die "qmgr of $dir still runs 30 s after it was disabled"
send nina@example.org 'incoming 1' in1@example.net in2@example.com
send '<>' 'incoming null sender' in3@example.org
send oscar@example.com 'incoming flush domain' in4@flush.example.test
incoming_done() {
	[ "$(lab_count "$dir" maildrop)" -eq 0 ] &&
		[ "$(find "$(lab_queue_dir "$dir")/incoming" -type f -perm -u+x | wc -l)" -eq $((incoming_before + 3)) ]
}
lab_wait_for 30 incoming_done ||
	lab_die "mail did not reach incoming within 30 s (maildrop incoming active deferred hold: $(lab_counts "$dir"))"
lab_step "incoming mail is in place"

# 5. With pickup disabled as well, new mail stays in maildrop. sendmail
# returns once postdrop has written the file, so no wait is needed.
lab_pause_services "$dir"
send peggy@example.net 'maildrop 1' md1@example.net md2@example.org
send quentin@example.org 'maildrop quoted recipient' '"mail drop"@example.com'
send rupert@example.com 'maildrop 3' md3@retry.example.test

lab_step "populated $dir (maildrop incoming active deferred hold: $(lab_counts "$dir"))"
