postsuper -d - maildrop
exit 0
