postsuper -d - hold
exit 0
