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
        "status_paused": "Paused",
        # --- the supporter's page (supporters/page.py, documents.py) ---
        "done_amount": "Your contribution is changed. A confirmation is on its way by e-mail.",
        "done_pause": "Your contribution is paused. A confirmation is on its way by e-mail.",
        "done_resume": "Your contribution continues. A confirmation is on its way by e-mail.",
        "done_cancel": "Your contribution is cancelled. A confirmation is on its way by e-mail.",
        "done_card": "The new card is saved. A confirmation is on its way by e-mail.",
        "contributions_title": "Contributions",
        "contribution_heading": "{frequency}, {amount}",
        "started_on": "Started on {date}",
        "paused_until": "Paused: charges resume on {date}.",
        "ends_on": "Cancelled: it ends on {date}, and nothing more is charged.",
        "amount_legend": "Change the amount or how often",
        "new_amount": "New amount ({currency})",
        "amount_hint": (
            "A new amount is charged from the next payment on. Switching between monthly and annual starts the "
            "new plan today, with its first payment today."
        ),
        "amount_submit": "Change",
        "pause_legend": "Pause for a while",
        "pause_hint": "Nothing is charged during the pause; your contribution continues by itself afterwards.",
        "pause_months_1": "1 month",
        "pause_months_2": "2 months",
        "pause_months_3": "3 months",
        "pause_submit": "Pause",
        "resume_submit": "Resume now",
        "resume_hint": "Charges start again from the next payment date.",
        "cancel_legend": "Cancel",
        "cancel_hint": "It runs to the end of the period you have paid for; nothing more is charged after that.",
        "cancel_hint_now": "Nothing is being paid for now, so it ends at once.",
        "cancel_reason": "Why are you leaving? (optional; kept without your name)",
        "cancel_submit": "Cancel my contribution",
        "card_link": "Replace the card",
        "payments_title": "Payments",
        "payments_empty": "There are no payments to show.",
        "column_paid_on": "Date",
        "column_payment_status": "Status",
        "column_receipt": "Receipt",
        "receipt_link": "Receipt of {date}",
        "statements_title": "Yearly statements",
        "statement_link": "Statement for {year}",
        "payment_succeeded": "Paid",
        "payment_partially_refunded": "Partly refunded",
        "payment_refunded": "Refunded",
        "payment_disputed": "Disputed with the bank",
        "payment_dispute_lost": "Taken back by the bank",
        "data_title": "Your data",
        "data_intro": "Download everything this newsroom holds about you as a file (JSON), or erase it.",
        "data_download": "Download my data",
        "erase_link": "Erase my data",
        "back": "Back to your support",
        # refusals, by ChangeRefused's code
        "refused_below_minimum": "The smallest amount we can take here is {minimum}.",
        "refused_above_maximum": "That is more than we can take (at most {maximum}). Please check the amount.",
        "refused_invalid_amount": "Please enter an amount, such as 5 or 5.50.",
        "refused_unsupported_frequency": "Please choose monthly or annual.",
        "refused_unsupported_currency": "This currency cannot be used here any more.",
        "refused_not_recurring": "This contribution is not a regular one, so it cannot be changed.",
        "refused_canceled": "This contribution has ended, so it cannot be changed.",
        "refused_not_running": "This contribution is not running now, so it cannot be changed.",
        "refused_cancel_pending": "This contribution is cancelled and ends at the end of its period.",
        "refused_already_paused": "This contribution is paused already.",
        "refused_not_paused": "This contribution is not paused.",
        "refused_months": "A contribution can be paused for 1, 2 or 3 months.",
        "refused_in_progress": "Another change to this contribution is on its way. Please try again in a minute.",
        "refused_foreign_setup": "This card was not set up for this contribution. Please try again.",
        "refused_setup_unfinished": "The card was not confirmed with your bank. Please try again.",
        "refused_risk_country": (
            "We cannot accept this card: cards issued in some countries can put the people who hold them at risk. "
            "Nothing changed."
        ),
        "refused_card_declined": "Your bank declined this card. Nothing changed. Please try another card.",
        "refused_generic": "Something went wrong on our side or at the payment processor. Nothing changed. "
        "Please try again.",
        # the card page
        "card_title": "Replace the card",
        "card_intro": "The new card pays for this contribution only ({frequency}, {amount}), from its next payment on.",
        "card_label": "Card",
        "card_submit": "Save the new card",
        "card_working": "Checking the card with your bank…",
        "card_js": "JavaScript is needed for the card field.",
        # the receipt and the statement
        "receipt_title": "Receipt",
        "receipt_amount": "Amount",
        "receipt_date": "Date",
        "receipt_frequency": "Contribution",
        "receipt_reference": "Your supporter reference",
        "receipt_payment": "Payment reference",
        "receipt_descriptor": "On your card statement",
        "receipt_refunded": "Refunded",
        "receipt_status": "Status",
        "receipt_print": "Print",
        "receipt_download": "Download",
        "receipt_note": "A contribution to {newsroom}. Thank you for your support.",
        "statement_title": "Statement for {year}",
        "statement_totals": "Totals",
        "statement_empty": "There are no payments in {year}.",
        "column_currency": "Currency",
        "column_paid": "Paid",
        "column_refunded": "Refunded",
        "column_net": "Kept",
        "column_reference": "Reference",
        # erasure
        "erase_title": "Erase my data",
        "erase_intro": (
            "This removes your e-mail address and your name, stops every contribution that still charges, and "
            "deletes your cards at the payment processor. The payments stay in the accounts without anything "
            "that names you. Afterwards you cannot sign in any more, and this cannot be undone."
        ),
        "erase_download_first": "You may want to download your data first.",
        "erase_submit": "Erase my data now",
        "erase_keep": "Keep my data",
        "erase_failed": "The payment processor did not answer, so your data is not erased yet. Please try again in "
        "a few minutes.",
        "erased_title": "Your data is erased",
        "erased_text": (
            "We have removed your address and your name, and nothing is charged any more. One last e-mail "
            "confirms it. There is nothing to sign in to any more."
        ),
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
        "status_paused": "Приостановлен",
        # --- the supporter's page (supporters/page.py, documents.py) ---
        "done_amount": "Взнос изменён. Подтверждение придёт на почту.",
        "done_pause": "Взнос приостановлен. Подтверждение придёт на почту.",
        "done_resume": "Взнос снова действует. Подтверждение придёт на почту.",
        "done_cancel": "Взнос отменён. Подтверждение придёт на почту.",
        "done_card": "Новая карта сохранена. Подтверждение придёт на почту.",
        "contributions_title": "Взносы",
        "contribution_heading": "{frequency}, {amount}",
        "started_on": "С {date}",
        "paused_until": "Приостановлен: списания возобновятся {date}.",
        "ends_on": "Отменён: завершится {date}, больше ничего не спишется.",
        "amount_legend": "Изменить сумму или периодичность",
        "new_amount": "Новая сумма ({currency})",
        "amount_hint": (
            "Новая сумма спишется со следующего платежа. При переходе с ежемесячного на ежегодный (или обратно) "
            "новый план начнётся сегодня, и первый платёж по нему тоже будет сегодня."
        ),
        "amount_submit": "Изменить",
        "pause_legend": "Сделать перерыв",
        "pause_hint": "Во время перерыва ничего не списывается, а потом поддержка продолжится сама.",
        "pause_months_1": "1 месяц",
        "pause_months_2": "2 месяца",
        "pause_months_3": "3 месяца",
        "pause_submit": "Приостановить",
        "resume_submit": "Возобновить сейчас",
        "resume_hint": "Списания начнутся снова со следующей даты платежа.",
        "cancel_legend": "Отменить",
        "cancel_hint": "Взнос действует до конца уже оплаченного периода; после этого ничего не спишется.",
        "cancel_hint_now": "Сейчас ничего не оплачено, поэтому взнос завершится сразу.",
        "cancel_reason": "Почему вы уходите? (необязательно; сохраняется без вашего имени)",
        "cancel_submit": "Отменить взнос",
        "card_link": "Заменить карту",
        "payments_title": "Платежи",
        "payments_empty": "Платежей пока нет.",
        "column_paid_on": "Дата",
        "column_payment_status": "Состояние",
        "column_receipt": "Квитанция",
        "receipt_link": "Квитанция от {date}",
        "statements_title": "Выписки за год",
        "statement_link": "Выписка за {year} год",
        "payment_succeeded": "Оплачен",
        "payment_partially_refunded": "Частично возвращён",
        "payment_refunded": "Возвращён",
        "payment_disputed": "Оспаривается в банке",
        "payment_dispute_lost": "Возвращён банком",
        "data_title": "Ваши данные",
        "data_intro": "Скачайте всё, что редакция о вас хранит, одним файлом (JSON) — или удалите это.",
        "data_download": "Скачать мои данные",
        "erase_link": "Удалить мои данные",
        "back": "Назад к вашей поддержке",
        # refusals, by ChangeRefused's code
        "refused_below_minimum": "Минимальная сумма здесь — {minimum}.",
        "refused_above_maximum": "Это больше, чем можно принять (не более {maximum}). Проверьте сумму.",
        "refused_invalid_amount": "Введите сумму, например 5 или 5,50.",
        "refused_unsupported_frequency": "Выберите: ежемесячно или ежегодно.",
        "refused_unsupported_currency": "Эта валюта здесь больше не принимается.",
        "refused_not_recurring": "Это разовый взнос, его нельзя изменить.",
        "refused_canceled": "Этот взнос завершён, его нельзя изменить.",
        "refused_not_running": "Этот взнос сейчас не действует, его нельзя изменить.",
        "refused_cancel_pending": "Этот взнос отменён и завершится в конце оплаченного периода.",
        "refused_already_paused": "Этот взнос уже приостановлен.",
        "refused_not_paused": "Этот взнос не приостановлен.",
        "refused_months": "Взнос можно приостановить на 1, 2 или 3 месяца.",
        "refused_in_progress": "Другое изменение этого взноса ещё в пути. Попробуйте снова через минуту.",
        "refused_foreign_setup": "Эта карта подключалась не для этого взноса. Попробуйте ещё раз.",
        "refused_setup_unfinished": "Банк не подтвердил карту. Попробуйте ещё раз.",
        "refused_risk_country": (
            "Мы не можем принять эту карту: карты, выпущенные в некоторых странах, могут подвергнуть риску их "
            "владельцев. Ничего не изменилось."
        ),
        "refused_card_declined": "Банк отклонил эту карту. Ничего не изменилось. Попробуйте другую карту.",
        "refused_generic": "Что-то пошло не так у нас или у платёжной системы. Ничего не изменилось. "
        "Попробуйте ещё раз.",
        # the card page
        "card_title": "Заменить карту",
        "card_intro": "Новая карта будет оплачивать только этот взнос ({frequency}, {amount}), начиная со следующего "
        "платежа.",
        "card_label": "Карта",
        "card_submit": "Сохранить новую карту",
        "card_working": "Проверяем карту в вашем банке…",
        "card_js": "Для поля карты нужен JavaScript.",
        # the receipt and the statement
        "receipt_title": "Квитанция",
        "receipt_amount": "Сумма",
        "receipt_date": "Дата",
        "receipt_frequency": "Взнос",
        "receipt_reference": "Ваш номер сторонника",
        "receipt_payment": "Номер платежа",
        "receipt_descriptor": "В выписке по карте",
        "receipt_refunded": "Возвращено",
        "receipt_status": "Состояние",
        "receipt_print": "Распечатать",
        "receipt_download": "Скачать",
        "receipt_note": "Взнос в поддержку «{newsroom}». Спасибо, что вы с нами.",
        "statement_title": "Выписка за {year} год",
        "statement_totals": "Итого",
        "statement_empty": "В {year} году платежей не было.",
        "column_currency": "Валюта",
        "column_paid": "Оплачено",
        "column_refunded": "Возвращено",
        "column_net": "Осталось",
        "column_reference": "Номер",
        # erasure
        "erase_title": "Удалить мои данные",
        "erase_intro": (
            "Мы удалим ваш адрес почты и имя, остановим все взносы, по которым ещё идут списания, и удалим ваши "
            "карты в платёжной системе. Платежи останутся в отчётности, но без того, что указывает на вас. "
            "После этого войти будет нельзя, и отменить удаление невозможно."
        ),
        "erase_download_first": "Возможно, сначала стоит скачать свои данные.",
        "erase_submit": "Удалить мои данные сейчас",
        "erase_keep": "Не удалять",
        "erase_failed": "Платёжная система не ответила, поэтому ваши данные пока не удалены. Попробуйте ещё раз "
        "через несколько минут.",
        "erased_title": "Ваши данные удалены",
        "erased_text": (
            "Мы удалили ваш адрес и имя, и больше ничего не спишется. Последнее письмо подтвердит это. "
            "Входить больше некуда."
        ),
    },
}


def page_copy(locale: str, *, newsroom: str) -> dict[str, str]:
    table = PAGE.get(locale, PAGE["en"])
    words = {key: text.replace("{newsroom}", newsroom) for key, text in table.items()}
    # Amounts and dates on these pages are written in the page's language (Money.display, date_long).
    words["locale"] = locale if locale in PAGE else "en"
    return words
