"""The demo's SMTP server: accepts every message on loopback and saves it as a file for /demo/outbox/.

    python -m readerfund.demo.smtp_sink --port 1025 --dir var/outbox

Demo only: the files hold addresses in the clear, on the newcomer's own machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any


class SaveToFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        name = f"{time.time_ns()}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(envelope.original_content)
        partial.rename(self.directory / name)  # the page never sees half a message
        return "250 Message accepted"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    # aiosmtpd logs every recipient at INFO; even the demo keeps addresses out of logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(SaveToFiles(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()
        os._exit(0)


if __name__ == "__main__":
    main()
