"""`readerfund rotate-key [--batch-size N]`: re-encrypt every personal value under FIELD_ENCRYPTION_KEY.

The rotation, step by step (README, "Rotating the encryption key"): pin LOOKUP_HASH_KEY to the key
being retired, move that key to FIELD_ENCRYPTION_KEYS_OLD and a new one to FIELD_ENCRYPTION_KEY,
restart, run this (again, if it was interrupted), then drop FIELD_ENCRYPTION_KEYS_OLD.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from readerfund.core.rotation import BATCH_SIZE, encrypted_values_rotate

BAR_WIDTH = 20
EIGHTHS = " ▏▎▍▌▋▊▉"


def progress_bar(done: int, total: int, *, width: int = BAR_WIDTH) -> str:
    """ "▏████▌   ▏": the share done in whole and eighth blocks."""
    eighths = (done * width * 8 // total) if total else width * 8
    full, part = divmod(min(eighths, width * 8), 8)
    bar = "█" * full + (EIGHTHS[part] if part else "")
    return f"▏{bar.ljust(width)}▏"


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value of every model under FIELD_ENCRYPTION_KEY, reading the others with "
        "FIELD_ENCRYPTION_KEYS_OLD. Values already under the current key are skipped: run it again to finish "
        "an interrupted run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument(
            "--print-current-key",
            action="store_true",
            help="Print the current key (urlsafe base64) and stop: the key derived from SECRET_KEY, to list in "
            "FIELD_ENCRYPTION_KEYS_OLD and LOOKUP_HASH_KEY when rotating away from it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from readerfund.core.privacy import keyring

        if options["print_current_key"]:
            self.stdout.write(base64.urlsafe_b64encode(keyring().current).decode())
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        self._tty = self.stderr.isatty()
        self._label = ""
        quiet = options["verbosity"] == 0
        report = encrypted_values_rotate(batch_size=options["batch_size"], progress=None if quiet else self._progress)
        if self._tty and self._label:
            self.stderr.write("", style_func=str)
        for tally in report.models:
            self.stdout.write(
                f"{tally.label}: {tally.rotated} value(s) re-encrypted, {tally.current} already under key "
                f"{report.key_id}, {tally.rows} row(s)"
            )
            if tally.undecryptable:
                ids = ", ".join(str(pk) for pk in tally.undecryptable[:20])
                self.stderr.write(f"  no configured key opens values of rows {ids}")
        if report.undecryptable:
            raise CommandError(
                f"{report.undecryptable} row(s) hold values no configured key opens: is a key missing from "
                "FIELD_ENCRYPTION_KEYS_OLD? Keep the old keys until this reports none."
            )
        self.stdout.write(f"Every encrypted value is under key {report.key_id}.")

    def _progress(self, label: str, done: int, total: int) -> None:
        # Plain, not in the error colour Django gives stderr: progress is not trouble.
        if not self._tty:
            self.stderr.write(f"{label}: {done}/{total}", style_func=str)
            return
        if self._label and label != self._label:
            self.stderr.write("", style_func=str)
        self._label = label
        self.stderr.write(f"\r{label}: {done}/{total} {progress_bar(done, total)}", style_func=str, ending="")
        self.stderr.flush()
