"""The newsroom's own pages, to come: until then staff use Django's admin (/admin/). It will read through
the other apps' selectors and write through their services."""
