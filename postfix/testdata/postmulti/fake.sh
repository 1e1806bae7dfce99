#!/bin/sh
# Stands in for postmulti in the tests of package postfix. With -l -a it
# prints the file named by FAKE_POSTMULTI_LIST, a capture of `postmulti -l`.
[ "$1" = -l ] && [ "$2" = -a ] || exit 64
cat "$FAKE_POSTMULTI_LIST"
