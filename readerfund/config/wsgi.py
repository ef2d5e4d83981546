import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readerfund.config.settings")
django_application = get_wsgi_application()

# The events beacon is answered before Django's request cycle (appeals/beacon.py); the rest by Django.
from readerfund.appeals.beacon import events_first  # noqa: E402 - needs Django set up first

application = events_first(django_application)
