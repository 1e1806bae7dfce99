postsuper -r - hold
exit 0
