"""The `readerfund` command: Django's management commands under the project's own name.

`readerfund reconcile --newsroom demo`, `readerfund worker`, `readerfund export payments …`.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readerfund.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["readerfund", *sys.argv[1:]])


if __name__ == "__main__":
    main()
