#!/bin/bash
# Usage: lab-up.sh [--long-ids] [--instance NAME]
#
# Install Debian's postfix package if it is missing, configure it as a
# loopback-only lab and (re)start it. Run as root. Re-running on a lab that
# this script wrote rewrites its configuration and restarts Postfix, which
# keeps the queued mail and enables qmgr and pickup again.
#
#   --long-ids       use long queue IDs (enable_long_queue_ids = yes) for new mail
#   --instance NAME  also create and start a second instance NAME (it must start
#                    with "postfix-", e.g. postfix-lab2) with postmulti, with its
#                    config in /etc/NAME and no SMTP listener
#
# Exit codes: 0 lab running, 1 failure, 2 usage error, 3 the host runs a
# Postfix or another mail server that this script did not set up (left
# untouched), 75 timed out waiting for the lab lock.
#
# Only loopback is used: the SMTP server listens on 127.0.0.1:25, all mail is
# relayed to [127.0.0.1]:2525 (nothing listens there, so it is deferred) or to
# an internal transport, and no DNS lookup is made.
set -euo pipefail

usage() {
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
}

long_ids=no
instance=
while [ $# -gt 0 ]; do
	case $1 in
	--long-ids) long_ids=yes ;;
	--instance)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
		instance=$2
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		printf 'lab-up.sh: unknown argument %s\n' "$1" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done
if [ -n "$instance" ] && ! [[ $instance =~ ^postfix-[a-z0-9][a-z0-9-]*$ ]]; then
	printf 'lab-up.sh: invalid instance name %s: postmulti requires "postfix-" followed by letters, digits or "-"\n' \
		"$instance" >&2
	exit 2
fi

# shellcheck source=deploy/lab/lab-lib.sh
. "$(dirname "$0")/lab-lib.sh"
# shellcheck source=deploy/lab/lab-config.sh
. "$(dirname "$0")/lab-config.sh"
lab_require_root
lab_take_lock

main_cf=$LAB_PRIMARY_DIR/main.cf
instance_dir=${instance:+/etc/$instance}

# reject_host explains why the lab leaves this host's mail server alone and exits 3.
reject_host() {
	cat >&2 <<EOF
lab-up.sh: $1
This host runs a real mail server, and the lab will not touch it.
To monitor this Postfix instead, run postfix_queue_exporter as a user in the
postdrop group, and pass --postfix.config-dir DIR when its configuration is
not in /etc/postfix.
EOF
	exit 3
}

lab_owns() {
	grep -qxF "$LAB_MARKER" "$1" 2>/dev/null
}

# 1. Safety checks, all before the first change.
installed_now=0
if ! lab_postfix_installed; then
	if [ -e "$main_cf" ] && ! lab_owns "$main_cf"; then
		reject_host "$main_cf exists without the line \"$LAB_MARKER\", but the postfix package is not installed."
	fi
	if [ -e /usr/sbin/sendmail ]; then
		reject_host "/usr/sbin/sendmail exists, so another mail server package is installed."
	fi
elif [ -e "$main_cf" ] && ! lab_owns "$main_cf"; then
	reject_host "$main_cf was not written by the lab (it lacks the line \"$LAB_MARKER\")."
fi
if [ -n "$instance_dir" ] && [ -e "$instance_dir/main.cf" ] && ! lab_owns "$instance_dir/main.cf"; then
	reject_host "$instance_dir/main.cf was not written by the lab (it lacks the line \"$LAB_MARKER\")."
fi

# 2. Install. The debconf preseed keeps the install from prompting, and --no-remove
# makes apt-get fail rather than remove another package.
if ! lab_postfix_installed; then
	printf '%s\n' 'postfix postfix/main_mailer_type select Local only' \
		'postfix postfix/mailname string mail.lab.invalid' | debconf-set-selections
	lab_step "apt-get update"
	apt-get update -qq
	lab_step "installing postfix"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-remove \
		-o Dpkg::Use-Pty=0 postfix >/dev/null
	installed_now=1
fi
lab_step "postfix $(postconf -h mail_version) is installed (installed by this run: $installed_now)"

# 3. Stop whatever runs: a Postfix that systemd started after the install,
# or the lab from an earlier run.
if [ -d /run/systemd/system ]; then
	systemctl stop postfix.service >/dev/null 2>&1 || true
fi
lab_stop_all || true

# 4. Configure the primary instance. main.cf is written from scratch, except
# the multi_instance_* settings that `postmulti -e init` added earlier.
id "$LAB_SLOW_USER" >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$LAB_SLOW_USER"
kept_settings=
if [ -e "$main_cf" ]; then
	kept_settings=$(postconf -c "$LAB_PRIMARY_DIR" -n | grep '^multi_instance_' || true)
fi
{
	printf '%s\n' "$LAB_MARKER"
	printf '%s\n' '# Loopback-only Postfix lab for the postfix_queue_exporter tests.' \
		'# deploy/lab/lab-up.sh rewrites this file on every run.'
	lab_settings "$LAB_PRIMARY_DIR" mail.lab.invalid /var/log/postfix-lab.log "$long_ids"
	if [ -n "$kept_settings" ]; then
		printf '%s\n' '# Multi-instance settings kept from postmulti -e init.' "$kept_settings"
	fi
} >"$main_cf.lab-new"
mv "$main_cf.lab-new" "$main_cf"
lab_backdate_config "$LAB_PRIMARY_DIR"
lab_configure_dir "$LAB_PRIMARY_DIR" /var/log/postfix-lab.log
lab_step "configured $LAB_PRIMARY_DIR"

# 5. Configure the second instance. postmulti writes its main.cf (queue and
# data directories, master_service_disable = inet), and the lab settings are
# layered on top with postconf -e.
if [ -n "$instance" ]; then
	if [ "$(postconf -c "$LAB_PRIMARY_DIR" -h multi_instance_enable)" != yes ]; then
		postmulti -e init
		lab_backdate_config "$LAB_PRIMARY_DIR"
	fi
	if [ ! -e "$instance_dir/main.cf" ]; then
		postmulti -I "$instance" -G lab -e create
		sed -i "1i $LAB_MARKER" "$instance_dir/main.cf"
		lab_backdate_config "$LAB_PRIMARY_DIR"
		lab_backdate_config "$instance_dir"
	fi
	mapfile -t settings < <(lab_settings "$instance_dir" "$instance.lab.invalid" "/var/log/$instance.log" "$long_ids" |
		grep -v '^#')
	# postmulti sets an empty list in new instances, which rejects sendmail
	# from every user.
	lab_postconf "$instance_dir" -e "${settings[@]}" 'authorized_submit_users = static:anyone'
	lab_configure_dir "$instance_dir" "/var/log/$instance.log"
	postmulti -i "$instance" -e enable
	lab_backdate_config "$instance_dir"
	lab_step "configured $instance_dir"
fi
# Other secondary instances keep their configuration, except that qmgr and
# pickup are enabled again if lab-populate.sh disabled them.
for dir in $(lab_instance_dirs); do
	if [ "$dir" != "$LAB_PRIMARY_DIR" ] && [ "$dir" != "$instance_dir" ] && lab_owns "$dir/main.cf"; then
		lab_restore_services "$dir"
	fi
done

# 6. Start. With multi-instance support on, `postfix start` starts every
# enabled instance.
lab_without_lock postfix start >/dev/null 2>&1 </dev/null ||
	lab_die "postfix start failed; see /var/log/postfix-lab.log"
for dir in $(lab_instance_dirs); do
	if [ "$(postconf -c "$dir" -h multi_instance_enable)" = yes ] || [ "$dir" = "$LAB_PRIMARY_DIR" ]; then
		lab_wait_for 10 postfix -c "$dir" status >/dev/null 2>&1 ||
			lab_die "Postfix for $dir is not running after postfix start; see its maillog_file"
		lab_step "Postfix for $dir is running, master PID $(lab_master_pid "$dir")"
	fi
done
lab_check_listeners
lab_step "lab is up"
