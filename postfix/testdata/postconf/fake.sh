#!/bin/sh
# Stands in for postconf in the tests of package postfix. For each name
# after -h it prints "NAME in DIR", where DIR is the value of -c or
# "default". For the name "unknown" it prints only postconf's warning, on
# stderr.
dir=default
if [ "$1" = -c ]; then
	dir=$2
	shift 2
fi
[ "$1" = -h ] || exit 64
shift
for name in "$@"; do
	if [ "$name" = unknown ]; then
		echo "postconf: warning: unknown: unknown parameter" >&2
	else
		echo "$name in $dir"
	fi
done
