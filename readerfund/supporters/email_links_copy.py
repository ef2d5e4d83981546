"""The words of the pause and cancel pages an e-mail's link opens (supporters/email_links.py), English and
Russian. Placeholders: {newsroom}, {amount}, {frequency} (filled by link_copy) and {date} (by the page, one
date per sentence)."""

from __future__ import annotations

LINK: dict[str, dict[str, str]] = {
    "en": {
        "monthly": "monthly",
        "annual": "annual",
        "pause_title": "Pause your contribution",
        "pause_intro": (
            "Your {frequency} contribution of {amount} to {newsroom} stops charging for the time you choose, "
            "then continues by itself. Nothing is taken while it is paused."
        ),
        "pause_legend": "For how long?",
        "months_1": "1 month",
        "months_2": "2 months",
        "months_3": "3 months",
        "months_until": "charging again on {date}",
        "months_wrong": "Choose one, two or three months.",
        "pause_button": "Pause my contribution",
        "cancel_title": "Cancel your contribution",
        "cancel_intro_active": (
            "Your {frequency} contribution of {amount} to {newsroom} stays active until the end of the period "
            "you have already paid for, then ends. Nothing more will be charged."
        ),
        "cancel_intro_now": (
            "Your {frequency} contribution of {amount} to {newsroom} ends now. Nothing more will be charged."
        ),
        "reason_label": "Why are you leaving? (optional, one line)",
        "reason_hint": "Your answer is kept without your name or address, to help the newsroom.",
        "cancel_button": "Cancel my contribution",
        "confirm_note": "Nothing changes until you press the button.",
        "done_title": "Done",
        "done_email": "We have also sent you an e-mail to confirm it.",
        "state_paused": "Your contribution is paused; it continues by itself on {date}.",
        "state_cancels": (
            "Your contribution is canceled: it stays active until {date}, then ends. Nothing more will be charged."
        ),
        "state_ended": "Your contribution has ended. Nothing more will be charged.",
        "used_title": "Already done",
        "used_text": "This link has already been used. It changes nothing a second time.",
        "invalid_title": "This link does not work",
        "invalid_text": (
            "It may be incomplete: check that the whole link was copied from the e-mail. "
            "You can always sign in to manage your support."
        ),
        "expired_title": "This link has expired",
        "expired_text": "Links in our e-mails work for 60 days. Sign in to pause or cancel your support.",
        "refused_title": "This cannot be done",
        "refused_not_recurring": "Only a monthly or annual contribution can be paused or canceled.",
        "refused_canceled": "This contribution has already ended. Nothing more will be charged.",
        "refused_not_running": "This contribution cannot be changed in its present state. Sign in to see it.",
        "refused_cancel_pending": (
            "This contribution is canceled already and ends at the end of its paid period. "
            "Nothing more will be charged."
        ),
        "refused_already_paused": "This contribution is paused already.",
        "refused_in_progress": "Another change to this contribution is being made. Please try again in a minute.",
        "refused_months": "Choose one, two or three months.",
        "refused_unavailable": (
            "We could not reach the payment provider, so nothing has changed. Please try again in a few minutes."
        ),
        "refused_other": "This change cannot be made now. Sign in to manage your support.",
        "manage": "Manage your support",
        "not_found": "There is no such newsroom here.",
    },
    "ru": {
        "monthly": "ежемесячный",
        "annual": "ежегодный",
        "pause_title": "Приостановить взнос",
        "pause_intro": (
            "Ваш {frequency} взнос {amount} в поддержку «{newsroom}» не будет списываться выбранное время, "
            "а потом возобновится сам. Пока взнос приостановлен, деньги не списываются."
        ),
        "pause_legend": "На какой срок?",
        "months_1": "1 месяц",
        "months_2": "2 месяца",
        "months_3": "3 месяца",
        "months_until": "списания возобновятся {date}",
        "months_wrong": "Выберите один, два или три месяца.",
        "pause_button": "Приостановить взнос",
        "cancel_title": "Отменить взнос",
        "cancel_intro_active": (
            "Ваш {frequency} взнос {amount} в поддержку «{newsroom}» будет действовать до конца уже оплаченного "
            "периода, а затем прекратится. Больше ничего списано не будет."
        ),
        "cancel_intro_now": (
            "Ваш {frequency} взнос {amount} в поддержку «{newsroom}» прекратится сразу. Больше ничего списано не будет."
        ),
        "reason_label": "Почему вы уходите? (необязательно, одной строкой)",
        "reason_hint": "Ваш ответ сохранится без имени и адреса — он поможет редакции.",
        "cancel_button": "Отменить взнос",
        "confirm_note": "Пока вы не нажмёте кнопку, ничего не изменится.",
        "done_title": "Готово",
        "done_email": "Мы также отправили вам письмо с подтверждением.",
        "state_paused": "Взнос приостановлен; списания возобновятся сами {date}.",
        "state_cancels": ("Взнос отменён: он действует до {date}, затем прекратится. Больше ничего списано не будет."),
        "state_ended": "Взнос прекращён. Больше ничего списано не будет.",
        "used_title": "Уже сделано",
        "used_text": "Эта ссылка уже использована. Повторно она ничего не меняет.",
        "invalid_title": "Ссылка не работает",
        "invalid_text": (
            "Возможно, она скопирована не полностью: проверьте, что из письма взята вся ссылка. "
            "Управлять поддержкой всегда можно, войдя в аккаунт."
        ),
        "expired_title": "Срок действия ссылки истёк",
        "expired_text": "Ссылки из наших писем действуют 60 дней. Войдите, чтобы приостановить или отменить поддержку.",
        "refused_title": "Это сделать нельзя",
        "refused_not_recurring": "Приостановить или отменить можно только ежемесячный или ежегодный взнос.",
        "refused_canceled": "Этот взнос уже прекращён. Больше ничего списано не будет.",
        "refused_not_running": "Сейчас этот взнос изменить нельзя. Войдите, чтобы посмотреть его состояние.",
        "refused_cancel_pending": (
            "Этот взнос уже отменён и прекратится в конце оплаченного периода. Больше ничего списано не будет."
        ),
        "refused_already_paused": "Этот взнос уже приостановлен.",
        "refused_in_progress": "Этот взнос сейчас уже меняется. Попробуйте ещё раз через минуту.",
        "refused_months": "Выберите один, два или три месяца.",
        "refused_unavailable": (
            "Не удалось связаться с платёжной системой, поэтому ничего не изменилось. "
            "Попробуйте ещё раз через несколько минут."
        ),
        "refused_other": "Сейчас это изменить нельзя. Войдите, чтобы управлять поддержкой.",
        "manage": "Управление поддержкой",
        "not_found": "Такой редакции здесь нет.",
    },
}


def link_copy(locale: str, **values: str) -> dict[str, str]:
    """The page's words in `locale` (English otherwise), with the placeholders filled in."""
    table = LINK.get(locale, LINK["en"])
    words = {}
    for key, text in table.items():
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        words[key] = text
    return words


def frequency_word(locale: str, frequency: str) -> str:
    """ "monthly" or "annual" as the sentences say it (in Russian, agreed with «взнос»)."""
    return LINK.get(locale, LINK["en"]).get(frequency, frequency)


def refusal_text(words: dict[str, str], code: str) -> str:
    """A ChangeRefused code (payments/change_markers.py) in the reader's words."""
    return words.get(f"refused_{code}", words["refused_other"])
