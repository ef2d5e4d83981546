"""The languages readerfund speaks to readers and supporters: English and Russian. Pure: no Django import.

Every page, e-mail and API message picks its language through `locale_or`; Django's LANGUAGES
(config/settings.py) is made from LANGUAGES here, so a third language is added in one place (and then
in each app's words: checkout/messages.py and copy.py, reminders/copy.py, supporters/copy.py, the
e-mail templates, the embed's copy).
"""

from __future__ import annotations

from typing import Any

LANGUAGES = (("en", "English"), ("ru", "Русский"))
LOCALES = tuple(code for code, _ in LANGUAGES)
DEFAULT_LOCALE = "en"


def locale_or(value: Any, default: Any = DEFAULT_LOCALE) -> str:
    """`value` if it is a locale we speak, else `default` if that is one (a newsroom's own), else English."""
    if isinstance(value, str) and value in LOCALES:
        return value
    return default if isinstance(default, str) and default in LOCALES else DEFAULT_LOCALE
