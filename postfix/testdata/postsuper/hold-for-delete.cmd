postsuper -h - deferred
exit 0
