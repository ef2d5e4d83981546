"""`python -m bench._webhook_worker COUNTS_FILE db_worker …`: the `readerfund` command, counting the Stripe
requests each event's handler sends (bench/_webhook_requests.py) and writing them to COUNTS_FILE at exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readerfund.config.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    from bench._webhook_requests import RequestCount, counting_install

    count = RequestCount()
    counting_install(count)
    try:
        execute_from_command_line(["readerfund", *sys.argv[2:]])
    finally:
        count.dump(Path(sys.argv[1]))
