"""What a reader is told when something goes wrong, in English and Russian. Pure: no Django import.

"Nothing was charged" appears only where it is known to be true: a decline or failed verification at the
bank, a provider we never reached before any charge was attempted (`unavailable`; services.contribution_pay
turns a loss of contact while charging into `unconfirmed`). Where we cannot know (`generic`, `unconfirmed`,
and the page's script when an answer is lost or is not ours) the message says so, and that a retry is safe.

Declines are mapped by Stripe's `decline_code` first, then `code`. Codes that hint at fraud checks
(stolen_card, fraudulent, ...) get the generic decline message on purpose, as Stripe advises.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "card_declined": "Your card was declined. Nothing was charged. Please try another card or contact your bank.",
        "insufficient_funds": "Your card has insufficient funds. Nothing was charged. Please try another card.",
        "expired_card": "Your card has expired. Nothing was charged. Please use another card.",
        "incorrect_cvc": "The card's security code (CVC) is incorrect. Nothing was charged. Please check it.",
        "incorrect_number": "The card number is incorrect. Nothing was charged. Please check it.",
        "incorrect_zip": "The card's postal code is incorrect. Nothing was charged. Please check it.",
        "card_velocity_exceeded": "Your card has reached its limit. Nothing was charged. Please try another card.",
        "processing_error": "Your bank could not process the card just now. Nothing was charged. Please try again.",
        "authentication_failed": ("Your bank's verification was not completed. Nothing was charged. Please try again."),
        "sepa_failed": "The direct debit could not be set up. Nothing was charged. Please check the IBAN.",
        "unavailable": ("We could not reach our payment provider. Nothing was charged, please try again in a moment."),
        "unconfirmed": (
            "We did not get an answer in time, so we could not confirm your payment. Please try again: you will "
            "not be charged twice. If a payment went through, your bank statement will show it."
        ),
        "below_minimum": "The smallest amount we can take here is {minimum}.",
        "above_maximum": "That is more than we can take in one go (at most {maximum}). Please check the amount.",
        "invalid_amount": "Please enter an amount, such as 5 or 5.50.",
        "unsupported_currency": "We can't take that currency here. Please choose {currencies}.",
        "unsupported_frequency": "Please choose one-off, monthly or annual.",
        "invalid_email": "Please enter a valid e-mail address, such as name@example.org.",
        "sepa_currency": "Direct debit is only available in euros.",
        "rate_limited": "Too many attempts. Please wait {seconds} seconds and try again.",
        "proof_required": (
            "Your browser has to solve a small puzzle before we can continue, and it could not. Nothing was "
            "charged. Please try again, or use another browser."
        ),
        "card_blocked": (
            "This card has been tried too many times here today. Nothing was charged. Please use another card "
            "or try again tomorrow."
        ),
        "expired_page": "This page has expired. Please reload it and try again.",
        "in_progress": "Your payment is still being processed. Please wait a moment.",
        "earlier_unfinished": (
            "Your earlier payment on this page was not completed, so nothing was charged for it. "
            "Please confirm your new choice."
        ),
        "busy": "We are very busy just now. Please try again in a few seconds: you will not be charged twice.",
        "generic": (
            "Something went wrong and we could not confirm your payment. Please try again: you will not be charged "
            "twice. If a payment went through, your bank statement will show it."
        ),
    },
    "ru": {
        "card_declined": "Банк отклонил карту. Деньги не списаны. Попробуйте другую карту или обратитесь в банк.",
        "insufficient_funds": "На карте недостаточно средств. Деньги не списаны. Попробуйте другую карту.",
        "expired_card": "Срок действия карты истёк. Деньги не списаны. Используйте другую карту.",
        "incorrect_cvc": "Неверный код безопасности (CVC). Деньги не списаны. Проверьте его.",
        "incorrect_number": "Неверный номер карты. Деньги не списаны. Проверьте его.",
        "incorrect_zip": "Неверный почтовый индекс карты. Деньги не списаны. Проверьте его.",
        "card_velocity_exceeded": "Достигнут лимит по карте. Деньги не списаны. Попробуйте другую карту.",
        "processing_error": "Банк сейчас не смог обработать карту. Деньги не списаны. Попробуйте ещё раз.",
        "authentication_failed": "Подтверждение в банке не завершено. Деньги не списаны. Попробуйте ещё раз.",
        "sepa_failed": "Не удалось оформить прямое дебетование. Деньги не списаны. Проверьте IBAN.",
        "unavailable": "Не удалось связаться с платёжной системой. Деньги не списаны, попробуйте ещё раз чуть позже.",
        "unconfirmed": (
            "Мы не дождались ответа и не можем подтвердить платёж. Попробуйте ещё раз: дважды деньги не спишутся. "
            "Если платёж прошёл, он будет виден в выписке по счёту."
        ),
        "below_minimum": "Минимальная сумма здесь — {minimum}.",
        "above_maximum": "Это больше, чем можно принять за один раз (не более {maximum}). Проверьте сумму.",
        "invalid_amount": "Введите сумму, например 5 или 5,50.",
        "unsupported_currency": "Эту валюту здесь принять нельзя. Выберите {currencies}.",
        "unsupported_frequency": "Выберите: разово, ежемесячно или ежегодно.",
        "invalid_email": "Введите корректный адрес электронной почты, например name@example.org.",
        "sepa_currency": "Прямое дебетование доступно только в евро.",
        "rate_limited": "Слишком много попыток. Подождите {seconds} с и попробуйте снова.",
        "proof_required": (
            "Прежде чем продолжить, браузер должен решить небольшую задачу, и у него не получилось. Деньги не "
            "списаны. Попробуйте ещё раз или откройте страницу в другом браузере."
        ),
        "card_blocked": (
            "Эту карту сегодня здесь пробовали слишком много раз. Деньги не списаны. Используйте другую карту "
            "или попробуйте завтра."
        ),
        "expired_page": "Страница устарела. Обновите её и попробуйте снова.",
        "in_progress": "Платёж ещё обрабатывается. Подождите немного.",
        "earlier_unfinished": (
            "Предыдущий платёж на этой странице не был завершён, деньги за него не списаны. Подтвердите новый выбор."
        ),
        "busy": "Сейчас слишком много запросов. Попробуйте ещё раз через несколько секунд: дважды деньги не спишутся.",
        "generic": (
            "Что-то пошло не так, и мы не можем подтвердить платёж. Попробуйте ещё раз: дважды деньги не спишутся. "
            "Если платёж прошёл, он будет виден в выписке по счёту."
        ),
    },
}

# Stripe decline/error codes -> our message keys. Anything unlisted from a card is a plain decline.
_DECLINES = {
    # Listed although unlisted codes get the plain decline anyway: decline_code is looked up before
    # code, so these stay generic whatever `code` comes with them. Stripe's decline-code table asks not
    # to tell the customer the reason for lost, stolen, fraudulent and blocklisted cards (pickup and
    # restricted cards may also be reported lost or stolen): https://docs.stripe.com/declines/codes.
    "lost_card": "card_declined",
    "stolen_card": "card_declined",
    "fraudulent": "card_declined",
    "merchant_blacklist": "card_declined",
    "pickup_card": "card_declined",
    "restricted_card": "card_declined",
    "insufficient_funds": "insufficient_funds",
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "invalid_cvc": "incorrect_cvc",
    "incorrect_number": "incorrect_number",
    "invalid_number": "incorrect_number",
    "incorrect_zip": "incorrect_zip",
    "card_velocity_exceeded": "card_velocity_exceeded",
    "withdrawal_count_limit_exceeded": "card_velocity_exceeded",
    "processing_error": "processing_error",
    "try_again_later": "processing_error",
    "authentication_required": "authentication_failed",
    "payment_intent_authentication_failure": "authentication_failed",
    "setup_intent_authentication_failure": "authentication_failed",
    "authentication_failed": "authentication_failed",
    "sepa_unsupported_account": "sepa_failed",
    "debit_not_authorized": "sepa_failed",
    "invalid_bank_account_iban": "sepa_failed",
    "iban_invalid": "sepa_failed",
    # Our own: a checkout failed after too many declined cards (checkout/card_testing.py).
    "too_many_declines": "card_declined",
}


def message(key: str, *, locale: str, **values: str) -> str:
    table = MESSAGES.get(locale, MESSAGES["en"])
    text = table.get(key) or MESSAGES["en"].get(key) or table["generic"]
    return text.format(**values) if values else text


def decline_key(*, code: str = "", decline_code: str = "") -> str:
    """Our message key for a provider error's decline_code/code (e.g. from Stripe's error object)."""
    for candidate in (decline_code, code):
        if candidate and candidate in _DECLINES:
            return _DECLINES[candidate]
    return "card_declined"
