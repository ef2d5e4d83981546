"""The reminders endpoint's part of the OpenAPI document (assembled in readerfund/config/openapi.py)."""

from __future__ import annotations

from typing import Any

from readerfund.reminders.api import ADDRESS_LIMIT, ADDRESS_WINDOW_SECONDS, IP_LIMIT, IP_WINDOW_SECONDS

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

REMINDER_PATHS: dict[str, Any] = {
    "/api/v1/reminders": {
        "post": {
            "summary": "Remind me later: one e-mail on the chosen day; a second request for an address moves it.",
            "description": (
                "The address is stored encrypted, used for this one e-mail and erased once it is sent or "
                "cancelled. The e-mail carries a one-click unsubscribe (RFC 8058) that cancels it. Sent as "
                "text/plain without credentials, so no preflight is needed. Rate limits: "
                f"{IP_LIMIT} per {IP_WINDOW_SECONDS // 60} min per IP, "
                f"{ADDRESS_LIMIT} per {ADDRESS_WINDOW_SECONDS // 60} min per mailbox (a +tag counts as the mailbox; "
                "past it the answer is the same and nothing changes). "
                "Messages in `message` and in errors are in the request's locale. Every valid request gets the same "
                "202 answer, whether the address is new, already waiting (its day is moved) or over its limit "
                "(nothing changes): the answer never tells whether an address asked for a reminder. The day is "
                "at the earliest the reader's tomorrow (in `timezone`, or at UTC+14 without it) and at the latest "
                "a year after their today; a day outside that is moved to the nearer end, and the answer names it."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "text/plain": {"schema": {"$ref": "#/components/schemas/ReminderRequest"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/ReminderRequest"}},
                },
            },
            "responses": {
                "202": {
                    "description": "Accepted: the e-mail goes out on `remind_on` (the same answer for any address).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reminder"}}},
                },
                "400": {
                    "description": (
                        "Malformed JSON, missing or mistyped field, or: invalid_email, invalid_date, "
                        "consent_required, invalid_text (NUL or half a surrogate pair). `error.field` "
                        "names the field to fix."
                    ),
                    "content": _ERROR,
                },
                "404": {"description": "unknown_newsroom.", "content": _ERROR},
                "405": {"description": "Use POST.", "content": _ERROR},
                "413": {"description": "Body over 16 KB.", "content": _ERROR},
                "429": {
                    "description": "Too many requests; retry after the Retry-After header (seconds).",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": _ERROR,
                },
            },
        },
        "options": {
            "summary": "CORS preflight; allowed for the origins newsrooms list.",
            "responses": {"204": {"description": "Access-Control-Allow-* headers for an allowed origin."}},
        },
    }
}

REMINDER_SCHEMAS: dict[str, Any] = {
    "ReminderRequest": {
        "type": "object",
        "required": ["newsroom", "email", "remind_on", "consent"],
        "properties": {
            "newsroom": {"type": "string", "examples": ["demo"]},
            "email": {"type": "string", "format": "email"},
            "remind_on": {
                "type": "string",
                "format": "date",
                "description": "YYYY-MM-DD: the reader's tomorrow up to a year ahead; moved into that window if not.",
            },
            "consent": {"const": True, "description": "Must be true."},
            "locale": {
                "type": ["string", "null"],
                "examples": ["en", "ru"],
                "description": "Default (also for null or a locale we don't write in): the newsroom's.",
            },
            "timezone": {
                "type": ["string", "null"],
                "examples": ["Europe/Riga"],
                "description": "The reader's IANA time zone: the e-mail comes at 9:00 there. Not stored. "
                "Anything else counts as unknown.",
            },
            "campaign": {"type": ["integer", "null"], "description": "Attribution: the campaign the appeal came from."},
            "variant": {"type": ["integer", "null"], "description": "Attribution: the variant shown."},
        },
    },
    "Reminder": {
        "type": "object",
        "required": ["remind_on", "message"],
        "additionalProperties": False,
        "properties": {
            "remind_on": {"type": "string", "format": "date"},
            "message": {"type": "string", "examples": ["We'll remind you on 12 March 2027."]},
        },
    },
}
