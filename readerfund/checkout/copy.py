"""The checkout pages' words, per locale. Kept beside the templates rather than in .po files so a
newsroom can read and adjust both languages in one place."""

from __future__ import annotations

from readerfund.checkout.messages import MESSAGES

PAGE: dict[str, dict[str, str]] = {
    "en": {
        "title": "Support {newsroom}",
        "intro": "No account needed. It takes a minute, and you can cancel a regular contribution at any time.",
        "frequency": "How often?",
        "one_off": "One-off",
        "monthly": "Monthly",
        "annual": "Annual",
        "amount": "Amount",
        "currency": "Currency",
        "other_amount": "Other amount",
        "minimum_hint": "At least {minimum}.",
        "details": "Your details",
        "email": "E-mail address",
        "email_hint": "Only for your receipt and for managing your support. We never share it.",
        "name": "Name (optional)",
        "receipt": "E-mail me a receipt",
        "payment": "Payment",
        "method": "Pay with",
        "method_card": "Card",
        "method_sepa": "SEPA direct debit",
        "card": "Card details",
        "iban": "IBAN",
        "sepa_mandate": (
            "By providing your IBAN and confirming this payment, you authorise {newsroom} and Stripe, our payment "
            "provider, to send instructions to your bank to debit your account in accordance with those "
            "instructions. You are entitled to a refund from your bank under the terms of your agreement with it."
        ),
        "card_note": "Card details go straight to our payment provider, Stripe; they never reach our server.",
        "submit": "Contribute",
        "working": "Processing your payment…",
        "proving": "Checking this browser, a few seconds…",
        "authenticating": "Your bank asks you to confirm this payment.",
        "per_month": "per month",
        "per_year": "per year",
        "not_found": "This newsroom does not take contributions here.",
        "thanks_title": "Thank you",
        "thanks_one_off": "We received your contribution of {amount}.",
        "thanks_monthly": "Your monthly contribution of {amount} has started.",
        "thanks_annual": "Your annual contribution of {amount} has started.",
        "thanks_pending": "Your contribution of {amount} is being processed.",
        "thanks_pending_debit": (
            "Your direct debit of {amount} is being processed. It takes a few working days to go through."
        ),
        "thanks_pending_debit_failure": (
            "If it does not go through, nothing is taken and we will let you know by e-mail."
        ),
        "thanks_receipt": "A receipt is on its way to your inbox.",
        "thanks_receipt_later": "We will e-mail your receipt once the payment has gone through.",
        "thanks_back": "Back to the article",
        "thanks_manage": "Manage your support",
        "thanks_unknown": "We could not find this contribution. If you were charged, your receipt has the details.",
        "refused_title": "We could not accept this card",
        "refused_body": (
            "Nothing was charged. Cards issued in some countries can put the people who hold them at risk when "
            "they support us, so we do not accept them, for your safety."
        ),
        "refused_options": "Safer ways to support us",
        "refused_back": "Back to the article",
        "refused_again": "Use a different card",
        "authenticate_title": "Confirm your payment",
        "authenticate_text": "Your bank asks you to confirm the renewal of your contribution of {amount}.",
        "authenticate_button": "Confirm with my bank",
        "authenticate_done": "Thank you: your contribution of {amount} is paid.",
        "authenticate_failed": "The payment is not confirmed yet. Please try again, or use a different card.",
        "authenticate_gone": "This link is no longer valid. Nothing needs confirming here.",
    },
    "ru": {
        "title": "Поддержать «{newsroom}»",
        "intro": "Без регистрации. Это займёт минуту, а регулярный взнос можно отменить в любой момент.",
        "frequency": "Как часто?",
        "one_off": "Разово",
        "monthly": "Ежемесячно",
        "annual": "Ежегодно",
        "amount": "Сумма",
        "currency": "Валюта",
        "other_amount": "Другая сумма",
        "minimum_hint": "Не менее {minimum}.",
        "details": "Ваши данные",
        "email": "Электронная почта",
        "email_hint": "Только для квитанции и управления поддержкой. Мы никому её не передаём.",
        "name": "Имя (необязательно)",
        "receipt": "Прислать квитанцию на почту",
        "payment": "Оплата",
        "method": "Способ оплаты",
        "method_card": "Карта",
        "method_sepa": "Прямое дебетование SEPA",
        "card": "Данные карты",
        "iban": "IBAN",
        "sepa_mandate": (
            "Указывая IBAN и подтверждая платёж, вы разрешаете «{newsroom}» и платёжной системе Stripe давать "
            "вашему банку поручения о списании средств с вашего счёта. Вы вправе получить возврат от банка "
            "на условиях вашего договора с ним."
        ),
        "card_note": "Данные карты передаются напрямую платёжной системе Stripe и не попадают на наш сервер.",
        "submit": "Поддержать",
        "working": "Обрабатываем платёж…",
        "proving": "Проверяем браузер, это займёт несколько секунд…",
        "authenticating": "Банк просит подтвердить платёж.",
        "per_month": "в месяц",
        "per_year": "в год",
        "not_found": "Эта редакция не принимает здесь взносы.",
        "thanks_title": "Спасибо",
        "thanks_one_off": "Мы получили ваш взнос: {amount}.",
        "thanks_monthly": "Ваш ежемесячный взнос {amount} оформлен.",
        "thanks_annual": "Ваш ежегодный взнос {amount} оформлен.",
        "thanks_pending": "Ваш взнос {amount} обрабатывается.",
        "thanks_pending_debit": (
            "Списание {amount} по прямому дебетованию обрабатывается. Банку на это нужно несколько рабочих дней."
        ),
        "thanks_pending_debit_failure": (
            "Если списание не пройдёт, деньги не спишутся, а мы сообщим вам об этом письмом."
        ),
        "thanks_receipt": "Квитанция уже в пути на вашу почту.",
        "thanks_receipt_later": "Квитанцию пришлём письмом, когда платёж пройдёт.",
        "thanks_back": "Вернуться к статье",
        "thanks_manage": "Управлять поддержкой",
        "thanks_unknown": "Мы не нашли этот взнос. Если деньги списаны, подробности — в квитанции.",
        "refused_title": "Мы не можем принять эту карту",
        "refused_body": (
            "Деньги не списаны. Держателям карт, выпущенных в некоторых странах, поддержка нашей редакции может "
            "грозить опасностью, поэтому ради вашей безопасности мы такие карты не принимаем."
        ),
        "refused_options": "Более безопасные способы поддержать нас",
        "refused_back": "Вернуться к статье",
        "refused_again": "Использовать другую карту",
        "authenticate_title": "Подтвердите платёж",
        "authenticate_text": "Ваш банк просит подтвердить продление взноса {amount}.",
        "authenticate_button": "Подтвердить в банке",
        "authenticate_done": "Спасибо: взнос {amount} оплачен.",
        "authenticate_failed": "Платёж пока не подтверждён. Попробуйте ещё раз или используйте другую карту.",
        "authenticate_gone": "Эта ссылка больше не действует. Здесь ничего не нужно подтверждать.",
    },
}


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def page_copy(locale: str, **values: str) -> dict[str, str]:
    """The page's words with the values filled in; placeholders without a value stay for the script."""
    table = PAGE.get(locale, PAGE["en"])
    return {key: text.format_map(_KeepMissing(values)) for key, text in table.items()}


def script_messages(locale: str) -> dict[str, str]:
    """What the page's script may show by itself: Stripe.js errors before our server is involved, and an
    answer that never came (`unconfirmed`) or was not ours (`generic`), where it cannot know what was charged."""
    table = MESSAGES.get(locale, MESSAGES["en"])
    keys = ("card_declined", "authentication_failed", "sepa_failed", "unconfirmed", "generic", "invalid_amount")
    page = PAGE.get(locale, PAGE["en"])
    return {
        **{key: table[key] for key in keys},
        "working": page["working"],
        "proving": page["proving"],
        "authenticating": page["authenticating"],
        "per_month": page["per_month"],
        "per_year": page["per_year"],
        "minimum_hint": page["minimum_hint"],
    }
