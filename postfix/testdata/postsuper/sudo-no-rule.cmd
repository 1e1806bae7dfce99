runuser -u nobody -- sudo -n postsuper -d - deferred
exit 1
