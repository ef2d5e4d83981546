// The embed's own words, English and Russian (by the page's <html lang>).
// The appeal's copy itself comes from the published document.
const TEXT = {
  en: {
    often: 'How often',
    amount: 'Amount',
    freq: ['One-off', 'Monthly', 'Annual'],
    notNow: 'Not now',
    remind: 'Remind me later',
    bye: 'Thanks. We won’t ask again for a while.',
    noCount: 'Don’t count my reading',
    when: 'When should we remind you?',
    how: 'How?',
    byMail: 'By e-mail',
    byCal: 'Add to my calendar',
    email: 'E-mail address',
    consent: 'We’ll use this address once, for this reminder, then delete it.',
    send: 'Remind me',
    cancel: 'Cancel',
    saved: 'Open the downloaded file in your calendar.',
    offline: 'Couldn’t reach the server. Please try again.',
    summary: 'Support ',
  },
  ru: {
    often: 'Как часто',
    amount: 'Сумма',
    freq: ['Разово', 'Ежемесячно', 'Ежегодно'],
    notNow: 'Не сейчас',
    remind: 'Напомнить позже',
    bye: 'Спасибо, пока не будем просить.',
    noCount: 'Не считать мои прочтения',
    when: 'Когда напомнить?',
    how: 'Как?',
    byMail: 'По эл. почте',
    byCal: 'Добавить в мой календарь',
    email: 'Адрес электронной почты',
    consent: 'Мы используем этот адрес один раз, для этого напоминания, и затем удалим его.',
    send: 'Напомнить',
    cancel: 'Отмена',
    saved: 'Откройте скачанный файл в календаре.',
    offline: 'Сервер недоступен. Попробуйте ещё раз.',
    summary: 'Поддержать ',
  },
};

// "In 2 weeks", "Через 3 месяца": months when the days divide by 30, weeks when by 7.
// The browser's own Intl knows each language's plurals.
function daysLabel(ctx, days) {
  const unit = days % 30 ? (days % 7 ? 'day' : 'week') : 'month';
  const text = new Intl.RelativeTimeFormat(ctx.lang).format(days / { day: 1, week: 7, month: 30 }[unit], unit);
  return text[0].toUpperCase() + text.slice(1);
}

// Calendar days in the reader's own time zone, as YYYY-MM-DD (shifted so UTC shows local time).
function daysAhead(days) {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return new Date(date - date.getTimezoneOffset() * 6e4).toISOString().slice(0, 10);
}

// Midnight at the start of that day, reader's time.
const dayAt = (iso) => new Date(iso + 'T00:00');
