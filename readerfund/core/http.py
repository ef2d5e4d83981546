"""JSON responses and errors for the public API: a message a developer can act on, never a 500."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse

MAX_BODY_BYTES = 16 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> JsonResponse:
        body = {"error": {"code": self.code, "message": self.message, **self.extra}}
        return JsonResponse(body, status=self.status)


def json_body(request: HttpRequest, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Parse a JSON object body; any content type, since sendBeacon posts text/plain."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared = int(length)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise ApiError(413, "body_too_large", f"Request body is over {max_bytes // 1024} KB.")
    raw = request.body
    if len(raw) > max_bytes:
        raise ApiError(413, "body_too_large", f"Request body is over {max_bytes // 1024} KB.")
    if not raw:
        raise ApiError(400, "empty_body", "Request body is empty; send a JSON object.")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"Request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "Request body must be a JSON object.")
    return data


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise ApiError(400, "missing_field", f"Field '{name}' is required.", field=name)
        return None
    value = data[name]
    # bool is an int in Python, but true is not a campaign id.
    ok = False if isinstance(value, bool) and kind is not bool else isinstance(value, kind)
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        expected = {"str": "a string", "int": "an integer", "bool": "true or false"}.get(names, names)
        raise ApiError(400, "invalid_field", f"Field '{name}' must be {expected}.", field=name)
    return value
