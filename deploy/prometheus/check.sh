#!/bin/bash
# Usage: deploy/prometheus/check.sh
#
# Check the example Prometheus configuration, its file_sd target file and the
# rule files with promtool, then run the rule unit tests in tests/. Installs
# Debian's prometheus package, which contains promtool, when promtool is
# missing (this needs root).
#
# Exit codes: 0 all checks passed, 1 a check failed, 2 promtool is missing.
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v promtool >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "check.sh: promtool not found; install Debian's prometheus package" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet.
	apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi

cd "$dir"
# check config also checks the rule files and file_sd files it names.
promtool check config prometheus.yml
promtool check rules postfix_queue_exporter.rules.yml postfix_queue_exporter.alerts.yml
promtool test rules tests/*_test.yml
