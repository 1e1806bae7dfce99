runuser -u nobody -- postsuper -d - deferred
exit 1
