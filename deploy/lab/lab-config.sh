# shellcheck shell=bash
# Lab configuration written by lab-up.sh. Sourced, never run.

# Print the lab's main.cf settings, one "name = value" line each, for config
# dir $1, host name $2, log file $3 and enable_long_queue_ids value $4.
lab_settings() {
	local dir=$1 host=$2 log=$3 long_ids=$4
	cat <<EOF
compatibility_level = 3.6
myhostname = $host
mydomain = lab.invalid
myorigin = \$myhostname
# No local delivery: every recipient is relayed.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
biff = no
append_dot_mydomain = no
readme_directory = no
smtputf8_enable = no
# Postmaster notices would add messages that the tests do not expect.
notify_classes =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtpd_tls_security_level = none
# Nothing listens on 127.0.0.1:2525, so relayed mail is deferred with
# "Connection refused". DNS is never used, not even for the next hop.
relayhost = [127.0.0.1]:2525
smtp_bind_address = 127.0.0.1
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
lmtp_dns_support_level = disabled
smtp_tls_security_level = none
transport_maps = texthash:$dir/lab-transport
header_checks = regexp:$dir/lab-header_checks
defer_transports = deferme
slow_time_limit = 86400s
fast_flush_domains = flush.example.test
# Retry deferred mail at the earliest 12 hours after a failed attempt, so it
# stays deferred during tests unless something flushes the queue.
queue_run_delay = 1h
minimal_backoff_time = 12h
maximal_backoff_time = 24h
delay_warning_time = 0
enable_long_queue_ids = $long_ids
# No syslog daemon is assumed: postlogd writes this file.
maillog_file = $log
EOF
}

# Write the transport and header_checks tables, the master.cf services and the
# log file for config dir $1 with log file $2, then run postfix check.
lab_configure_dir() {
	local dir=$1 log=$2
	# Every next hop is an internal transport or a 127.0.0.1 port.
	cat >"$dir/lab-transport" <<'EOF'
retry.example.test     retry:4.4.1 lab retry transport: "quoted words" and a \backslash
tempfail.example.test  smtp:[127.0.0.1]:2526
deferme.example.test   deferme:[127.0.0.1]:2525
slow.example.test      slow:
error.example.test     error:5.1.1 lab error transport: rejected
discard.example.test   discard:lab discard transport
EOF
	printf '%s\n' '/^Subject:.*HOLDME/ HOLD held by the lab header_checks rule' >"$dir/lab-header_checks"
	lab_backdate_config "$dir"

	# Debian's master.cf chroots most daemons, and only Debian's service
	# scripts copy the files they need into the chroot, so run them unchrooted.
	lab_postconf "$dir" -F '*/*/chroot = n'
	# The pipe runs sleep for a day, which keeps its mail in the active queue.
	lab_postconf "$dir" -M "slow/unix=slow unix - n n - - pipe flags=q user=$LAB_SLOW_USER argv=/bin/sleep 86400"
	# Listed in defer_transports, so its mail is deferred without a delivery attempt.
	lab_postconf "$dir" -M 'deferme/unix=deferme unix - - n - - smtp'
	lab_restore_services "$dir"

	# postlogd would create the file as root, and then postsuper, which runs
	# as the postfix user, could not log while Postfix is stopped.
	touch "$log"
	chown postfix:adm "$log"
	chmod 0640 "$log"
	postfix -c "$dir" check
}

# Fail unless every TCP socket of the Postfix master processes listens on a
# loopback address.
lab_check_listeners() {
	local bad
	bad=$(ss -Hltnp | grep '"master"' | awk '{print $4}' | grep -v '^127\.' || true)
	[ -z "$bad" ] || lab_die "Postfix listens on a non-loopback address: $bad"
}
