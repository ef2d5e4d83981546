"""A supporter's own pages: the e-mailed sign-in, their contributions and changes to them, receipts and
statements, download and erase their data, and the pause and cancel links of a receipt."""
