postsuper -r - maildrop
exit 0
