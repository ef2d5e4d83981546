"""The OpenAPI document for the public API, built once at import."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}


def _error_responses(*codes: str) -> dict[str, Any]:
    texts = {
        "400": "Malformed JSON, or a missing or mistyped field.",
        "404": "Unknown newsroom, campaign or variant.",
        "405": "Wrong method.",
        "413": "Body over 16 KB.",
        "429": "Too many requests; retry after the Retry-After header.",
    }
    return {
        code: {
            "description": texts[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


PATHS: dict[str, Any] = {
    "/api/v1/newsrooms/{slug}/appeals.json": {
        "get": {
            "summary": "The newsroom's live appeals for the requester's country, in one locale.",
            "description": (
                "Compiled when an editor saves. Cacheable: varies only on the country header and the locale. "
                "Sets and reads no cookie. Answers If-None-Match with 304."
            ),
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "locale", "in": "query", "schema": {"type": "string", "example": "en"}},
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "The published appeals.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Appeals"}}},
                },
                "304": {"description": "Not modified since the ETag given."},
                **_error_responses("400", "404"),
            },
        }
    },
    "/api/v1/events": {
        "post": {
            "summary": "Count one appeal event (aggregate per variant per day; nothing about the reader is kept).",
            "requestBody": {
                "required": True,
                "description": "JSON; sent by navigator.sendBeacon, so any content type is accepted.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}},
            },
            "responses": {"204": {"description": "Counted."}, **_error_responses("400", "404", "405", "413")},
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": _ERROR,
    "Event": {
        "type": "object",
        "required": ["newsroom", "campaign", "variant", "event"],
        "properties": {
            "newsroom": {"type": "string"},
            "campaign": {"type": "integer"},
            "variant": {"type": "integer"},
            "event": {"type": "string", "enum": ["view", "click", "dismiss", "remind"]},
        },
    },
    "Appeals": {
        "type": "object",
        "required": ["newsroom", "locale", "campaigns"],
        "properties": {
            "newsroom": {"type": "object"},
            "locale": {"type": "string"},
            "campaigns": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "readerfund public API", "version": "1"},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())
