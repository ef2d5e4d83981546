// "Remind me later": pick a day, then an e-mail (our reminders API keeps the address only
// until then) or a calendar file made in the browser. Either way the appeal waits until that day.
function remindOpen(ctx, actions) {
  const { T, campaign } = ctx;
  const days = campaign.remind_choices;
  const form = document.createElement('form');
  form.className = 't';
  form.innerHTML = `<fieldset><legend>${T.when}</legend>${radios('remind_on',days.map((d)=>[daysAhead(d),daysLabel(ctx,d)]),daysAhead(days[0]))}</fieldset>
<fieldset><legend>${T.how}</legend>${radios('how',[['email',T.byMail],['calendar',T.byCal]],'email')}</fieldset>
<div><label>${T.email}<input type="email" name="email" autocomplete="email" required></label>
<label class="c"><input type="checkbox" name="consent" required><span>${T.consent}</span></label></div>
<p class="m"><button class="cta" type="submit">${T.send}</button><button type="button">${T.cancel}</button></p><p aria-live="polite"></p>`;
  const fields = form.elements;
  const { email, consent } = fields;
  const [submit, cancel] = form.querySelectorAll('button');
  const say = (text, error) => {
    form.lastChild.textContent = text;
    form.lastChild.className = error ? 'e' : '';
    submit.disabled = false;
  };
  actions.replaceWith(form);
  fields[1].focus(); // [0] is the fieldset, which takes no focus

  form.onchange = ({ target }) => {
    if (target.name === 'how') email.parentNode.parentNode.hidden = !(email.required = consent.required = target.value === 'email');
  };
  cancel.onclick = () => form.replaceWith(actions) || actions.querySelector('[data-a=remind]').focus();
  form.onsubmit = (e) => {
    e.preventDefault();
    const day = fields.remind_on.value;
    if (!email.required) {
      icsDownload(icsText(day, T.summary + ctx.doc.newsroom.name, checkoutLink(ctx)));
      return remindDone(ctx, day, T.saved);
    }
    say('');
    submit.disabled = true;
    for (const input of [email, consent]) input.removeAttribute('aria-invalid');
    // The reader's time zone, so the e-mail comes at nine on their chosen day and never sooner than their tomorrow.
    let timezone;
    try { timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (_) {}
    const body = { newsroom: ctx.slug, email: email.value.trim(), remind_on: day, consent: consent.checked, locale: ctx.lang, timezone, campaign: campaign.id, variant: ctx.variant.id };
    // A string body goes as text/plain: a "simple" request, so no CORS preflight.
    fetch(`${ctx.origin}/api/v1/reminders`, { method: 'POST', credentials: 'omit', body: JSON.stringify(body) })
      .then((response) =>
        response.json().then((answer) => {
          const error = answer.error;
          // The server words the confirmation and names the day, which it may have moved into its window.
          if (response.ok) return remindDone(ctx, answer.remind_on || day, answer.message);
          say(error.message, 1);
          const invalid = fields[error.field];
          if (invalid && invalid.focus) invalid.setAttribute('aria-invalid', true), invalid.focus();
        }),
      )
      .catch(() => say(T.offline, 1));
  };
}

function remindDone(ctx, day, text) {
  snooze(ctx.campaign.id, dayAt(day).getTime());
  appealClose(ctx, text);
}
