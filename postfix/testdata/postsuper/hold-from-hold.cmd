postsuper -h - hold
exit 0
