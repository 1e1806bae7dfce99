postsuper -d - deferred
exit 0
