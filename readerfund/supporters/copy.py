"""The supporter's pages' words, English and Russian, beside the templates (as checkout/copy.py)."""

from __future__ import annotations

PAGE: dict[str, dict[str, str]] = {
    "en": {
        "title": "Manage your support",
        "intro": (
            "Enter the e-mail address you used when you contributed to {newsroom}. We will send you a link to "
            "sign in, and a code you can type here instead if you read your mail on another device."
        ),
        "email": "E-mail address",
        "send": "Send me a sign-in link",
        "code_title": "I have a code",
        "code_intro": "Type the same e-mail address and the 8-digit code from the sign-in e-mail.",
        "code": "Code",
        "code_submit": "Sign in",
        "sent": (
            "If this address belongs to a supporter of {newsroom}, a sign-in e-mail is on its way. "
            "The link and the code in it work once, for 15 minutes."
        ),
        "sent_spam": "Nothing arrived after a few minutes? Check your spam folder, or ask again.",
        "invalid_email": "Please enter a valid e-mail address.",
        "code_wrong": (
            "This code does not work: it may be mistyped, used or expired, or there were too many tries. "
            "Check it, or ask for a new sign-in e-mail."
        ),
        "signed_out": "You are signed out.",
        "link_title": "Sign in",
        "link_text": "Press the button to sign in and manage your support for {newsroom}.",
        "link_button": "Sign in",
        "link_gone_title": "This link no longer works",
        "link_gone": "A sign-in link works once, for 15 minutes. Ask for a new one: it takes a minute.",
        "link_new": "Ask for a new sign-in link",
        "home_title": "Your support",
        "home_intro": "Your contributions to {newsroom}, the newest first.",
        "home_empty": "There are no contributions to show.",
        "column_frequency": "How often",
        "column_amount": "Amount",
        "column_status": "Status",
        "column_date": "Started",
        "session_note": "For your safety you are signed out automatically after an hour.",
        "signout": "Sign out",
        "not_found": "There is no such newsroom here.",
        "one_off": "One-off",
        "monthly": "Monthly",
        "annual": "Annual",
        "status_pending": "Processing",
        "status_requires_action": "Waiting for your bank's confirmation",
        "status_active": "Active",
        "status_past_due": "Payment overdue",
        "status_succeeded": "Paid",
        "status_failed": "Failed",
        "status_canceled": "Cancelled",
        "status_refused": "Not accepted",
    },
    "ru": {
        "title": "Управление поддержкой",
        "intro": (
            "Укажите адрес электронной почты, с которым вы поддерживали «{newsroom}». Мы пришлём ссылку для входа "
            "и код: его можно ввести здесь, если почта у вас на другом устройстве."
        ),
        "email": "Электронная почта",
        "send": "Прислать ссылку для входа",
        "code_title": "У меня есть код",
        "code_intro": "Введите тот же адрес почты и 8-значный код из письма.",
        "code": "Код",
        "code_submit": "Войти",
        "sent": (
            "Если этот адрес принадлежит стороннику «{newsroom}», письмо для входа уже в пути. "
            "Ссылка и код из него действуют один раз в течение 15 минут."
        ),
        "sent_spam": "Письмо не пришло за несколько минут? Загляните в папку «Спам» или запросите его снова.",
        "invalid_email": "Введите правильный адрес электронной почты.",
        "code_wrong": (
            "Этот код не подходит: возможно, в нём опечатка, он уже использован или истёк, либо попыток было "
            "слишком много. Проверьте код или запросите новое письмо для входа."
        ),
        "signed_out": "Вы вышли.",
        "link_title": "Вход",
        "link_text": "Нажмите кнопку, чтобы войти и управлять поддержкой «{newsroom}».",
        "link_button": "Войти",
        "link_gone_title": "Эта ссылка больше не действует",
        "link_gone": "Ссылка для входа действует один раз в течение 15 минут. Запросите новую — это займёт минуту.",
        "link_new": "Запросить новую ссылку",
        "home_title": "Ваша поддержка",
        "home_intro": "Ваши взносы в «{newsroom}», сначала новые.",
        "home_empty": "Взносов пока нет.",
        "column_frequency": "Как часто",
        "column_amount": "Сумма",
        "column_status": "Состояние",
        "column_date": "Начало",
        "session_note": "Ради вашей безопасности через час вы выйдете автоматически.",
        "signout": "Выйти",
        "not_found": "Такой редакции здесь нет.",
        "one_off": "Разово",
        "monthly": "Ежемесячно",
        "annual": "Ежегодно",
        "status_pending": "Обрабатывается",
        "status_requires_action": "Ждёт подтверждения в банке",
        "status_active": "Действует",
        "status_past_due": "Платёж просрочен",
        "status_succeeded": "Оплачен",
        "status_failed": "Не прошёл",
        "status_canceled": "Отменён",
        "status_refused": "Не принят",
    },
}


def page_copy(locale: str, *, newsroom: str) -> dict[str, str]:
    table = PAGE.get(locale, PAGE["en"])
    return {key: text.replace("{newsroom}", newsroom) for key, text in table.items()}
