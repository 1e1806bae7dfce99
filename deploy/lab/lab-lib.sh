# shellcheck shell=bash
# Shared helpers for the lab scripts in this directory. Sourced, never run.
#
# Locking: every lab script serialises on the lab lock file (LAB_LOCK_FILE,
# default /run/postfix-lab.lock) before it touches Postfix. A caller that
# already holds the lock either runs the script under flock(1), whose lock
# descriptor the script inherits and reuses, or sets LAB_LOCKED=1 (needed when
# the lock descriptor is not inherited, as with a Go test holding it).
# LAB_LOCK_TIMEOUT (seconds, default 300) bounds the wait.

# shellcheck disable=SC2034 # the constants are used by the sourcing scripts
LAB_MARKER='# managed by postfix_queue_exporter deploy/lab'
LAB_LOCK_FILE=${LAB_LOCK_FILE:-/run/postfix-lab.lock}
LAB_LOCK_TIMEOUT=${LAB_LOCK_TIMEOUT:-300}
LAB_PRIMARY_DIR=/etc/postfix
# Dedicated user for the `slow` pipe transport. Its only processes are the
# sleep commands that keep mail in the active queue.
LAB_SLOW_USER=labslow
LAB_SINK_PORT=2526

lab_start_ns=$(date +%s%N)

# Print a progress line prefixed with the script name and the seconds elapsed.
lab_step() {
	local now
	now=$(date +%s%N)
	printf '[%s %6.2fs] %s\n' "${0##*/}" "$(((now - lab_start_ns) / 1000000))e-3" "$*"
}

lab_die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

lab_require_root() {
	[ "$(id -u)" -eq 0 ] || lab_die "must run as root (it changes Postfix configuration and queues)"
}

# Print the numbers of this shell's open file descriptors that point at the
# lab lock file, such as one inherited from a caller's flock(1).
lab_lock_fds() {
	local link
	for link in "/proc/$$/fd"/*; do
		if [ "$(readlink "$link" 2>/dev/null)" = "$LAB_LOCK_FILE" ]; then
			printf '%s\n' "${link##*/}"
		fi
	done
}

# Take the lab lock unless the caller holds it. flock(2) on a descriptor that
# shares the caller's open file description succeeds at once, so an inherited
# descriptor is reused instead of opening the file again, which would wait for
# the caller until the timeout.
lab_take_lock() {
	local fd
	if [ "${LAB_LOCKED:-}" = 1 ]; then
		return 0
	fi
	fd=$(lab_lock_fds | head -n 1)
	if [ -z "$fd" ]; then
		exec {fd}>>"$LAB_LOCK_FILE"
	fi
	if flock -n "$fd"; then
		export LAB_LOCKED=1
		return 0
	fi
	lab_step "waiting up to $LAB_LOCK_TIMEOUT s for the lab lock $LAB_LOCK_FILE"
	if ! flock -w "$LAB_LOCK_TIMEOUT" "$fd"; then
		printf '%s: error: timed out after %s s waiting for the lab lock %s. If the caller already holds it, set LAB_LOCKED=1.\n' \
			"${0##*/}" "$LAB_LOCK_TIMEOUT" "$LAB_LOCK_FILE" >&2
		exit 75
	fi
	lab_step "took the lab lock"
	export LAB_LOCKED=1
}

# Run a command with every descriptor on the lock file closed. Daemons started
# by the lab (the Postfix master, smtp-sink) would otherwise inherit the
# descriptor and keep the lock held for as long as they run.
lab_without_lock() {
	(lab_exec_without_lock "$@")
}

# Close the lock descriptors and replace the shell with the command. Run it in
# a subshell, as in `(lab_exec_without_lock cmd) &`, so that $! is the PID of
# the command itself.
lab_exec_without_lock() {
	local fd
	for fd in $(lab_lock_fds); do
		exec {fd}>&-
	done
	exec "$@"
}

lab_postfix_installed() {
	[ "$(dpkg-query -W -f='${Status}' postfix 2>/dev/null)" = "install ok installed" ]
}

# Move the modification time of the lab's files in config dir $1 10 s into
# the past. Postfix 3.7 programs that read main.cf or a texthash table changed
# less than 2 s ago re-read it every 300 ms until it is 2 s old (seen with
# strace), which adds 2 s to every command after an edit. The lab writes each
# file completely before anything reads it, so the wait buys nothing.
lab_backdate_config() {
	local file files=()
	for file in main.cf master.cf lab-transport lab-header_checks; do
		if [ -e "$1/$file" ]; then
			files+=("$1/$file")
		fi
	done
	touch -m -d "@$(($(date +%s) - 10))" "${files[@]}"
}

# Run postconf to edit config dir $1 with the remaining arguments, then
# backdate the files it may have changed.
lab_postconf() {
	local dir=$1
	shift
	postconf -c "$dir" "$@"
	lab_backdate_config "$dir"
}

# Print the primary config directory and every secondary instance's one.
lab_instance_dirs() {
	local dir
	printf '%s\n' "$LAB_PRIMARY_DIR"
	for dir in $(postconf -c "$LAB_PRIMARY_DIR" -h multi_instance_directories 2>/dev/null | tr ',' ' '); do
		printf '%s\n' "$dir"
	done
}

lab_queue_dir() {
	postconf -c "$1" -h queue_directory
}

# Print the number of queue files in one queue of the instance in config dir $1.
lab_count() {
	find "$(lab_queue_dir "$1")/$2" -type f 2>/dev/null | wc -l
}

# Print "maildrop incoming active deferred hold" file counts for config dir $1.
lab_counts() {
	local queue out=
	for queue in maildrop incoming active deferred hold; do
		out="$out $(lab_count "$1" "$queue")"
	done
	printf '%s\n' "${out# }"
}

lab_master_pid() {
	local pidfile
	pidfile="$(lab_queue_dir "$1")/pid/master.pid"
	[ -r "$pidfile" ] && tr -d ' \n' <"$pidfile"
}

# Succeed when the master of config dir $1 has a child process named $2.
lab_has_child() {
	local pid
	pid=$(lab_master_pid "$1") || return 1
	[ -n "$pid" ] && pgrep -P "$pid" -x "$2" >/dev/null
}

# Wait up to $1 seconds for the command in the remaining arguments to succeed.
lab_wait_for() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# Print the PIDs of the slow transport's sleep processes that belong to
# config dir $1 (their pipe process is a child of its master), or to no
# instance (orphaned by `postfix stop`). Without $1, print all of them.
lab_sleepers() {
	local master='' pid pipe grandparent
	if [ -n "${1:-}" ]; then
		master=$(lab_master_pid "$1") || master=
	fi
	id "$LAB_SLOW_USER" >/dev/null 2>&1 || return 0
	# Zombies are skipped: they are already dead, and PID 1 may reap them late.
	for pid in $(ps -u "$LAB_SLOW_USER" -o pid=,stat=,comm= | awk '$3 == "sleep" && $2 !~ /^Z/ {print $1}'); do
		pipe=$(ps -o ppid= -p "$pid" | tr -d ' ') || continue
		grandparent=$(ps -o ppid= -p "$pipe" 2>/dev/null | tr -d ' ') || grandparent=1
		if [ -z "${1:-}" ] || [ "$pipe" = 1 ] || [ "$grandparent" = 1 ] || [ "$grandparent" = "$master" ]; then
			printf '%s\n' "$pid"
		fi
	done
}

# End the slow transport's sleep processes of config dir $1 (all of them
# without $1). `postfix stop` and `postsuper -d` leave them running, and a
# restarted qmgr cannot move their mail while they hold its queue file.
lab_kill_sleepers() {
	local pids
	mapfile -t pids < <(lab_sleepers "${1:-}")
	if [ "${#pids[@]}" -gt 0 ]; then
		lab_step "ending slow-transport sleep processes: ${pids[*]}"
		kill "${pids[@]}" 2>/dev/null || true
		lab_wait_for 10 lab_all_gone "${pids[@]}" ||
			lab_die "sleep processes still running 10 s after kill: ${pids[*]}"
	fi
}

# Succeed when none of the PIDs in the arguments runs any more.
lab_all_gone() {
	local pid
	for pid in "$@"; do
		# A zombie counts as gone: PID 1 may be slow to reap orphans.
		case $(ps -o stat= -p "$pid" 2>/dev/null) in
		'' | Z*) ;;
		*) return 1 ;;
		esac
	done
}

# The services that lab-populate.sh disables to keep mail in the incoming
# and maildrop queues.
LAB_PAUSED_SERVICES='qmgr/unix pickup/unix'

# Print master_service_disable of config dir $1 without the lab's paused
# services, keeping entries set by others (postmulti sets "inet").
lab_disabled_without_paused() {
	local entry kept=
	for entry in $(postconf -c "$1" -h master_service_disable | tr ',' ' '); do
		case " $LAB_PAUSED_SERVICES " in
		*" $entry "*) ;;
		*) kept="$kept $entry" ;;
		esac
	done
	printf '%s\n' "${kept# }"
}

# Set master_service_disable of config dir $1 to $2, removing the parameter
# when $2 is empty, and reload Postfix when it runs.
lab_set_disabled() {
	local dir=$1 value=$2
	if [ -n "$value" ]; then
		lab_postconf "$dir" -e "master_service_disable = $value"
	else
		lab_postconf "$dir" -X master_service_disable
	fi
	if postfix -c "$dir" status >/dev/null 2>&1; then
		lab_without_lock postfix -c "$dir" reload >/dev/null 2>&1 </dev/null
	fi
}

# Stop the qmgr and pickup services of config dir $1 (through
# master_service_disable and a reload) and wait until both processes are gone.
# Mail then stays where it is: nothing leaves maildrop or incoming, and
# deferred mail is never retried.
lab_pause_services() {
	local dir=$1 service
	lab_set_disabled "$dir" "$(lab_disabled_without_paused "$dir") $LAB_PAUSED_SERVICES"
	for service in qmgr pickup; do
		lab_wait_for 30 lab_has_no_child "$dir" "$service" ||
			lab_die "$service of $dir is still running 30 s after the reload that disabled it"
	done
}

# Re-enable the qmgr and pickup services of config dir $1, if they were
# paused, and wait until qmgr runs again.
lab_restore_services() {
	local dir=$1
	case " $(postconf -c "$dir" -h master_service_disable | tr ',' ' ') " in
	*" qmgr/unix "* | *" pickup/unix "*) ;;
	*) return 0 ;;
	esac
	# Ending the sleeps first makes their pipe processes defer the mail and
	# unlock its queue file, so the new qmgr can deliver it again.
	lab_kill_sleepers "$dir"
	lab_set_disabled "$dir" "$(lab_disabled_without_paused "$dir")"
	if postfix -c "$dir" status >/dev/null 2>&1; then
		lab_wait_for 30 lab_has_child "$dir" qmgr ||
			lab_die "qmgr of $dir did not start within 30 s after the reload that enabled it"
	fi
	lab_step "qmgr and pickup of $dir are enabled again"
}

lab_has_no_child() {
	! lab_has_child "$@"
}

# Stop every running Postfix instance of the lab, secondary ones first, then
# end the slow transport's leftover sleep processes. Return 1 when an instance
# was left alone because the lab did not write its main.cf.
lab_stop_all() {
	local dir dirs skipped=0
	command -v postconf >/dev/null 2>&1 || return 0
	dirs=$(lab_instance_dirs | tac)
	for dir in $dirs; do
		if ! grep -qxF "$LAB_MARKER" "$dir/main.cf" 2>/dev/null; then
			lab_step "leaving $dir alone: its main.cf was not written by lab-up.sh"
			skipped=1
			continue
		fi
		if postfix -c "$dir" status >/dev/null 2>&1; then
			# `postfix -c DIR stop` stops that instance only, whereas a plain
			# `postfix stop` stops all of them once multi-instance support is on.
			postfix -c "$dir" stop >/dev/null 2>&1 || true
			lab_wait_for 30 lab_not_running "$dir" ||
				lab_die "Postfix for $dir is still running 30 s after postfix stop"
			lab_step "stopped Postfix for $dir"
		fi
	done
	lab_kill_sleepers
	[ "$skipped" -eq 0 ]
}

lab_not_running() {
	! postfix -c "$1" status >/dev/null 2>&1
}

# Succeed when no mail of config dir $1 waits in maildrop or incoming and every
# active message is one for the slow transport.
lab_settled() {
	local json waiting active active_slow
	json=$(postqueue -c "$1" -j 2>/dev/null) || return 1
	waiting=$(grep -c '"queue_name": "\(maildrop\|incoming\)"' <<<"$json" || true)
	active=$(grep -c '"queue_name": "active"' <<<"$json" || true)
	active_slow=$(grep -c '"queue_name": "active".*@slow\.example\.test"' <<<"$json" || true)
	[ "$waiting" -eq 0 ] && [ "$active" -eq "$active_slow" ]
}

# Succeed when config dir $1 is settled in two listings 0.3 s apart. One
# listing can miss a message that moves between two queue directories while
# showq reads them.
lab_settled_twice() {
	lab_settled "$1" && sleep 0.3 && lab_settled "$1"
}

# Wait up to $2 seconds until config dir $1 is settled.
lab_wait_settled() {
	lab_wait_for "$2" lab_settled_twice "$1" ||
		lab_die "mail of $1 did not settle within $2 s (maildrop incoming active deferred hold: $(lab_counts "$1"))"
}

# Fail unless config dir $1 is a running lab instance: populating or clearing
# a Postfix that the lab did not write would destroy real mail.
lab_require_lab_instance() {
	[ -e "$1/main.cf" ] || lab_die "$1/main.cf not found; run lab-up.sh first"
	grep -qxF "$LAB_MARKER" "$1/main.cf" ||
		lab_die "$1/main.cf was not written by lab-up.sh (it lacks the line \"$LAB_MARKER\"); the lab does not touch this Postfix"
	postfix -c "$1" status >/dev/null 2>&1 || lab_die "Postfix for $1 is not running; run lab-up.sh first"
}
