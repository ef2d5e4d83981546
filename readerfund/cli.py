"""The `readerfund` command: Django's management commands under the project's own name.

`readerfund reconcile --newsroom demo`, `readerfund worker`, `readerfund export payments …`. A command's
name may be typed with hyphens: `readerfund rotate-key` runs `rotate_key`.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readerfund.config.settings")
    from django.core.management import execute_from_command_line

    arguments = sys.argv[1:]
    if arguments and not arguments[0].startswith("-"):
        arguments[0] = arguments[0].replace("-", "_")
    execute_from_command_line(["readerfund", *arguments])


if __name__ == "__main__":
    main()
