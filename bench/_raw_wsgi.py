"""The raw baseline: a WSGI callable that answers a constant, run by granian exactly as readerfund is.

Nothing is parsed and nothing imported: what is left is granian's own cost per request, the floor under
any Python answer. GET answers a JSON body of RAW_BODY_BYTES (the published document's size); any
other method answers 204, as the events beacon does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

_SIZE = int(os.environ.get("RAW_BODY_BYTES", "1500"))
_BODY = b'{"padding":"' + b"x" * max(_SIZE - len(b'{"padding":""}'), 0) + b'"}'
_GET = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]
_OTHER: list[tuple[str, str]] = [("Content-Type", "text/html; charset=utf-8")]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] == "GET":
        start_response("200 OK", _GET)
        return [_BODY]
    start_response("204 No Content", _OTHER)
    return [b""]
