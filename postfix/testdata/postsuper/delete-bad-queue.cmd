postsuper -d - bogus
exit 1
