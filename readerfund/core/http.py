"""JSON responses and errors for the public API: a message a developer can act on, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils.http import parse_etags

MAX_BODY_BYTES = 16 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def content(self) -> bytes:
        body = {"error": {"code": self.code, "message": self.message, **self.extra}}
        # JsonResponse's own encoding, so an answer made before Django (Answer) is byte for byte the same.
        return json.dumps(body, cls=DjangoJSONEncoder).encode()

    def answer(self) -> Answer:
        return Answer(self.status, [("Content-Type", "application/json")], self.content())

    def response(self) -> JsonResponse:
        return JsonResponse({"error": {"code": self.code, "message": self.message, **self.extra}}, status=self.status)


@dataclass
class Answer:
    """A response as plain data: what an endpoint answered before Django's request cycle
    (appeals/beacon.py) shares with its Django view, which turns it into a response (answer_response)."""

    status: int
    headers: list[tuple[str, str]] = dataclass_field(default_factory=list)
    body: bytes = b""


def length_headers(status: int, body: bytes) -> list[tuple[str, str]]:
    """Content-Length for an API answer, as CommonMiddleware gives pages: the server then frames it by
    length, not chunked, whichever path answered it. None on 204 and 304, which have no body by law."""
    return [] if status in (204, 304) else [("Content-Length", str(len(body)))]


def answer_response(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status)
    # A 204 has no body, so no type; Django would otherwise say text/html.
    del response["Content-Type"]
    for name, value in answer.headers:
        response[name] = value
    return response


def method_not_allowed_answer(allowed: tuple[str, ...], hint: str) -> Answer:
    answer = ApiError(405, "method_not_allowed", hint).answer()
    answer.headers.append(("Allow", ", ".join(allowed)))
    return answer


def etag_matches(etag: str, if_none_match: str) -> bool:
    """Whether a request's If-None-Match names this ETag: answer it 304. The one ETag check.

    If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"x" matches "x", and * matches anything.
    """
    if not if_none_match or if_none_match == etag:
        return bool(if_none_match)
    tags = parse_etags(if_none_match)
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


def method_not_allowed(allowed: tuple[str, ...], hint: str) -> JsonResponse:
    response = ApiError(405, "method_not_allowed", hint).response()
    response["Allow"] = ", ".join(allowed)
    return response


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "body_too_large", f"Request body is over {max_bytes // 1024} KB; send a smaller JSON object.")


def _declared_length(meta: Mapping[str, Any]) -> int | None:
    try:
        return int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def read_body(request: HttpRequest, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing more than max_bytes whatever Content-Length says."""
    return body_read(request.META, lambda: request.body, max_bytes=max_bytes)


def _environ_body(environ: Mapping[str, Any]) -> bytes:
    # Django's request.body without Django: exactly the declared length, as its LimitedStream reads.
    # A negative length reads nothing there (and everything from a raw stream: never pass it on).
    declared = _declared_length(environ)
    return environ["wsgi.input"].read(declared) if declared and declared > 0 else b""


def environ_body(environ: Mapping[str, Any], *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """read_body for a WSGI environ: the same limits, for an endpoint answered before Django."""
    return body_read(environ, lambda: _environ_body(environ), max_bytes=max_bytes)


def body_read(meta: Mapping[str, Any], whole: Callable[[], bytes], *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing more than max_bytes whatever Content-Length says; `whole` reads the declared length.

    A chunked request has no Content-Length, and Django then reads an empty body; servers that mark
    the input as terminated (granian does, per PEP 3333's wsgi.input_terminated) let us read the
    stream itself, capped one byte past the limit so an endless body costs at most that much.
    """
    declared = _declared_length(meta)
    if declared is None and str(meta.get("CONTENT_LENGTH") or "").strip():
        # Django's request.body would raise ValueError on it: a 500.
        raise ApiError(400, "invalid_length", "Content-Length must be a whole number of bytes.")
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    stream = meta.get("wsgi.input")
    try:
        if declared is None and meta.get("wsgi.input_terminated") and stream is not None:
            raw = stream.read(max_bytes + 1)
        else:
            raw = whole()
    except RawPostDataException as exc:  # something parsed it as a form first
        raise ApiError(
            400, "unreadable_body", "The body was sent as a form; send JSON as text/plain or application/json."
        ) from exc
    except OSError as exc:  # the client went away mid-body
        raise ApiError(400, "unreadable_body", "The request body could not be read; send it again.") from exc
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    return raw


def json_body(request: HttpRequest, *, max_bytes: int = MAX_BODY_BYTES, refuse_nul: bool = True) -> dict[str, Any]:
    """Parse a JSON object body; any content type, since sendBeacon posts text/plain.

    `refuse_nul=False`: the endpoint reads only the fields its OpenAPI document names, each checked on its
    own (a slug with NUL is no newsroom's), and ignores the rest; a NUL in a key or field it never reads
    is then no error, as its document says (schemathesis checks it).
    """
    return json_object(read_body(request, max_bytes=max_bytes), refuse_nul=refuse_nul)


def json_object(raw: bytes, *, refuse_nul: bool = True) -> dict[str, Any]:
    """The JSON object a body holds; ApiError (a 400 with what is wrong) for anything else."""
    if not raw.strip():
        raise ApiError(400, "empty_body", "Request body is empty; send a JSON object.")
    try:
        # Decoded here, strictly: json.loads(bytes) guesses UTF-16 or UTF-32 and decodes with
        # 'surrogatepass', so UTF-8's bytes for half a surrogate pair (ED A0 80), or a UTF-16 body, became
        # a lone surrogate that no "\\u" escape betrayed, and hashing or encrypting it raised: a 500.
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "malformed_json", "Request body is not valid UTF-8 (JSON is sent as UTF-8); send a UTF-8 JSON object."
        ) from exc
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, "malformed_json", f"Request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from exc
    except ValueError as exc:  # e.g. an integer past Python's 4300-digit limit
        raise ApiError(400, "malformed_json", f"Request body is not usable JSON: {exc}.") from exc
    except RecursionError as exc:
        raise ApiError(400, "malformed_json", "Request body nests too deeply; send a flat JSON object.") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", f"Request body must be a JSON object, not {type(data).__name__}.")
    # PostgreSQL text can't hold NUL, so a "\u0000" reaching a query would be a 500 there. The
    # byte test keeps the walk off the pageview path; JSON can't carry a raw NUL in a string.
    if refuse_nul and b"\\u0000" in raw and _walk(data, _has_nul):
        raise ApiError(400, "invalid_text", "Strings in the body must not contain the NUL character (\\u0000).")
    # Half of a surrogate pair ("\ud800" alone) decodes to a str that has no UTF-8 form: encrypting it,
    # hashing it or handing it to SQLite raised, a 500. A raw byte sequence for one is refused by the decoder.
    if _SURROGATE_ESCAPE.search(raw) and _walk(data, _has_lone_surrogate):
        raise ApiError(
            400, "invalid_text", "Strings in the body must be valid Unicode, as UTF-8 (half a surrogate pair was sent)."
        )
    return data


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_nul(text: str) -> bool:
    return "\x00" in text


def _has_lone_surrogate(text: str) -> bool:
    # json.loads joins a well-formed pair into one character: whatever is left in this range is alone.
    return _LONE_SURROGATE.search(text) is not None


def _walk(data: Any, test: Callable[[str], bool]) -> bool:
    try:
        return _holds(data, test)
    except RecursionError as exc:
        raise ApiError(400, "malformed_json", "Request body nests too deeply; send a flat JSON object.") from exc


def _holds(value: Any, test: Callable[[str], bool]) -> bool:
    if isinstance(value, str):
        return test(value)
    if isinstance(value, dict):
        return any(_holds(k, test) or _holds(v, test) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds(v, test) for v in value)
    return False


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", float: "a number", list: "a list"}


def field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise ApiError(400, "missing_field", f"Field '{name}' is required.", field=name)
        return None
    value = data[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python, but true is not a campaign id.
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        expected = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
        got = json.dumps(value)[:40]
        raise ApiError(400, "invalid_field", f"Field '{name}' must be {expected}, not {got}.", field=name)
    return value
