postsuper -H - deferred
exit 0
