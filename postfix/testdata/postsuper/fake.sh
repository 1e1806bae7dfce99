#!/bin/sh
# Usage: fake.sh CASE RECORD [ARGS...]
#
# Stands in for postsuper in the tests of package postfix: appends ARGS and
# then stdin to the file RECORD, prints the stderr captured for CASE and
# exits with the status captured for it.
case=$1
record=$2
shift 2
dir=$(dirname "$0")
{
	printf 'args: %s\n' "$*"
	cat
} >>"$record"
cat "$dir/$case.stderr" >&2
exit "$(sed -n 's/^exit //p' "$dir/$case.cmd")"
