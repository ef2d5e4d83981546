"""GET /api/v1/openapi.json: the public API's OpenAPI 3.1 document, assembled from each app's own part.

An app with a public endpoint describes it next to its code (`<app>/openapi.py`: its paths and its
bodies) and is listed here; no app imports another's part.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from readerfund.appeals import openapi as appeals_part
from readerfund.core.http import method_not_allowed
from readerfund.reminders import openapi as reminders_part

PATHS: dict[str, Any] = appeals_part.PATHS | reminders_part.REMINDER_PATHS
SCHEMAS: dict[str, Any] = appeals_part.SCHEMAS | reminders_part.REMINDER_SCHEMAS


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "readerfund public API",
            "version": "1",
            "description": "What the embed reads and sends. No cookies; nothing about the reader is stored.",
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


def openapi_json(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(("GET", "HEAD"), "Use GET to read the OpenAPI document.")
    response = JsonResponse(openapi_document())
    response["Cache-Control"] = "public, max-age=300"
    return response
