"""What readers read from the reminders API and pages, in English and Russian.

Kept as plain dictionaries (not gettext) so the strings sit next to each other and a translator
sees both languages at once. Any locale other than these falls back to English.
"""

from __future__ import annotations

from datetime import date

from readerfund.core.locales import locale_or

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    # Genitive case, as a date reads in a Russian sentence: "12 марта 2027"
    "ru": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "scheduled": "We'll remind you on {day}.",
        "invalid_email": "Please check your e-mail address; it doesn't look right.",
        "invalid_date": "Please pick a date (YYYY-MM-DD).",
        "consent_required": "Please tick the box to agree to one reminder e-mail.",
        "rate_limited": "Too many requests. Please try again in {minutes} min.",
        "unsubscribe_title": "Cancel your reminder",
        "unsubscribe_prompt": "Stop the reminder e-mail from {newsroom}? Your address will be erased.",
        "unsubscribe_button": "Cancel the reminder",
        "unsubscribed": "Done. You won't get a reminder from {newsroom}, and your address has been erased.",
        "broken_link": "This link is broken or incomplete. Please copy the whole link from the e-mail.",
    },
    "ru": {
        "scheduled": "Напомним вам {day}.",
        "invalid_email": "Проверьте адрес электронной почты: кажется, в нём ошибка.",
        "invalid_date": "Выберите дату (ГГГГ-ММ-ДД).",
        "consent_required": "Отметьте согласие получить одно письмо-напоминание.",
        "rate_limited": "Слишком много запросов. Попробуйте снова через {minutes} мин.",
        "unsubscribe_title": "Отменить напоминание",
        "unsubscribe_prompt": "Отменить письмо-напоминание от «{newsroom}»? Ваш адрес будет удалён.",
        "unsubscribe_button": "Отменить напоминание",
        "unsubscribed": "Готово. Напоминания от «{newsroom}» не будет, ваш адрес удалён.",
        "broken_link": "Ссылка повреждена или неполная. Скопируйте её из письма целиком.",
    },
}


def locale_or_default(locale: str | None, default: str = "en") -> str:
    # "ru-RU" and "RU" are Russian here: the embed sends what the page's <html lang> says.
    return locale_or((locale or "").lower()[:2], default)


def day_text(day: date, locale: str) -> str:
    month = _MONTHS[locale_or_default(locale)][day.month - 1]
    return f"{day.day} {month} {day.year}"


def text(locale: str, key: str, **values: object) -> str:
    return TEXT[locale_or_default(locale)][key].format(**values)
