"""The appeals' part of the OpenAPI 3.1 document: the appeals and events endpoints (PATHS) and their
bodies (SCHEMAS), with the Error body and `error_responses` every part reuses, so every error is
described the same way. readerfund/config/openapi.py assembles the document from each app's part.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from readerfund.core.amounts import FREQUENCIES
from readerfund.core.http import MAX_BODY_BYTES

ERROR_TEXTS = {
    "400": "Malformed JSON, or a missing or mistyped field; `error.field` names the field.",
    "404": "Unknown newsroom, campaign or variant.",
    "405": "Wrong method; the Allow header lists the right ones.",
    "413": f"Body over {MAX_BODY_BYTES // 1024} KB.",
    "429": "Too many requests; retry after the Retry-After header.",
}


# A newsroom's slug, as the URL's <slug:slug> matches it; any other path is 404 unknown_endpoint.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
# What appeals/api.py reads as a language: 2-3 letters, then anything after a - or _ ("ru-RU", "sr_Latn");
# empty is the newsroom's default.
LOCALE_PATTERN = r"^\s*([A-Za-z]{2,3}([-_].*)?)?\s*$"


def error_responses(*codes: str) -> dict[str, Any]:
    return {
        code: {
            "description": ERROR_TEXTS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_CORS_PREFLIGHT: dict[str, Any] = {
    "summary": "CORS preflight; allowed for the origins the newsroom lists.",
    "responses": {"204": {"description": "Access-Control-Allow-* headers for an allowed origin, none otherwise."}},
}

PATHS: dict[str, Any] = {
    "/api/v1/newsrooms/{slug}/appeals.json": {
        "parameters": [
            {
                "name": "slug",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": SLUG_PATTERN, "examples": ["demo"]},
            }
        ],
        "get": {
            "summary": "The newsroom's live appeals for the requester's country, in one locale.",
            "description": (
                "Compiled when an editor saves. Cacheable: varies only on the country header and the locale "
                "(and Origin, for CORS). Sets and reads no cookie. Answers If-None-Match with 304. "
                "A locale no copy is written in gets the newsroom's default."
            ),
            "parameters": [
                {
                    "name": "locale",
                    "in": "query",
                    "description": "A language code, with a region or script if you like; anything else is a 400.",
                    "schema": {"type": "string", "pattern": LOCALE_PATTERN, "examples": ["en", "ru", "ru-RU"]},
                },
                {
                    "name": settings.COUNTRY_HEADER,
                    "in": "header",
                    "description": "The reader's country (ISO 3166-1 alpha-2), set by the CDN or proxy.",
                    "schema": {"type": "string"},
                },
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "The published appeals.",
                    "headers": {
                        "ETag": {"schema": {"type": "string"}},
                        "Cache-Control": {"schema": {"type": "string", "examples": ["public, max-age=60"]}},
                    },
                    "content": {"application/json": {"schema": _ref("Appeals")}},
                },
                "304": {"description": "Not modified since the ETag given."},
                **error_responses("400", "404", "405"),
            },
        },
        "options": {
            **_CORS_PREFLIGHT,
            "responses": {
                **_CORS_PREFLIGHT["responses"],
                "404": {
                    "description": "unknown_endpoint: a slug with characters outside its pattern names no newsroom.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        },
    },
    "/api/v1/events": {
        "post": {
            "summary": "Count one appeal event (aggregate per variant per day; nothing about the reader is kept).",
            "requestBody": {
                "required": True,
                "description": "JSON; sent by navigator.sendBeacon, so any content type is accepted.",
                "content": {"application/json": {"schema": _ref("Event")}},
            },
            "responses": {
                "204": {"description": "Counted."},
                **error_responses("400", "404", "405", "413"),
            },
        },
        "options": _CORS_PREFLIGHT,
    },
}

_STRINGS = {"type": "array", "items": {"type": "string"}}
_MINOR_UNITS = {"type": "integer", "minimum": 0, "description": "Minor units, e.g. cents."}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["missing_field"]},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            }
        },
    },
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
            "newsroom": _ref("Newsroom"),
            "locale": {"type": "string"},
            "campaigns": {"type": "array", "items": _ref("Campaign")},
        },
    },
    "Newsroom": {
        "type": "object",
        "required": ["slug", "name", "default_locale", "default_currency"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "default_locale": {"type": "string"},
            "default_currency": {"type": "string"},
            "brand_colour": {"type": "string"},
        },
    },
    "Campaign": {
        "type": "object",
        "description": "Highest priority first; the browser picks one by its own reader state.",
        "required": ["id", "placement", "priority", "target", "variants"],
        "properties": {
            "id": {"type": "integer"},
            "placement": {"type": "string", "enum": ["article-end"]},
            "priority": {"type": "integer"},
            "starts_at": {"type": ["string", "null"], "format": "date-time"},
            "ends_at": {"type": ["string", "null"], "format": "date-time"},
            "target": {
                "type": "object",
                "properties": {
                    "min_articles": {"type": "integer"},
                    "locales": _STRINGS,
                    "sections": _STRINGS,
                    "skip_supporters": {"type": "boolean"},
                },
            },
            "snooze_days": {"type": "integer"},
            "max_views_per_30_days": {"type": "integer", "description": "0 means no cap."},
            "remind_choices": {"type": "array", "items": {"type": "integer"}},
            "variants": {"type": "array", "minItems": 1, "items": _ref("Variant")},
        },
    },
    "Variant": {
        "type": "object",
        "required": ["id", "key", "weight", "locale", "copy", "amounts", "minimums", "default_frequency"],
        "properties": {
            "id": {"type": "integer"},
            "key": {"type": "string"},
            "weight": {"type": "integer", "minimum": 1},
            "locale": {"type": "string", "description": "The locale the copy is in."},
            "copy": {
                "type": "object",
                "required": ["heading", "cta"],
                "properties": {"heading": {"type": "string"}, "paragraphs": _STRINGS, "cta": {"type": "string"}},
            },
            "amounts": {
                "type": "object",
                "description": "Suggested amounts by currency, then frequency.",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": _MINOR_UNITS},
                },
            },
            "minimums": {
                "type": "object",
                "additionalProperties": {"type": "object", "additionalProperties": _MINOR_UNITS},
            },
            "default_frequency": {"type": "string", "enum": list(FREQUENCIES)},
        },
    },
}
