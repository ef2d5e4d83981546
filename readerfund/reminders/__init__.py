""" "Remind me later": one e-mail on the reader's chosen day, its address erased once it is sent or cancelled."""
