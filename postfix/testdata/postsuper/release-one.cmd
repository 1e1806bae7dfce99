postsuper -H - hold
exit 0
