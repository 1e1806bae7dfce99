postsuper -r - deferred
exit 0
