postsuper -h - maildrop
exit 0
