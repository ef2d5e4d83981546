// The appeal box, rendered into an open Shadow DOM so the site's CSS can't reach it.
const FREQUENCIES = ['one_off', 'monthly', 'annual'];

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

// White text needs WCAG AA contrast (4.5:1) on the brand colour, else near-black is used.
// (WCAG's linear segment below 0.04 is left out: it moves the luminance by under 0.001.)
// Only a #rrggbb value reaches the style sheet, so the document can't inject CSS.
function brandColour(hex) {
  const luminance = [1, 3, 5].reduce((sum, at, i) => sum + [.2126, .7152, .0722][i] * ((parseInt(hex.substr(at, 2), 16) / 255 + .055) / 1.055) ** 2.4, 0);
  return /^#[0-9a-f]{6}$/i.test(hex) && 1.05 / (luminance + .05) >= 4.5 ? hex : '#1d1d1d';
}

// Minor units to "$5" or "5 $" (a whole amount drops its ",00"), "$2.50", "¥500".
function money(ctx, minor) {
  const format = new Intl.NumberFormat(ctx.lang, { style: 'currency', currency: ctx.currency });
  return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits).replace(/[.,]00(?!\d)/, '');
}

const radios = (name, options, selected) =>
  options
    .map(([value, label]) => `<label class="o"><input type="radio" name="${name}" value="${value}"${value == selected ? ' checked' : ''}><span>${esc(label)}</span></label>`)
    .join('');

// High-contrast modes would paint every pill alike; the chosen one keeps its colours (white on brand).
const appealCss = (b) => `:host{all:initial;display:block;margin:32px 0}
section{font:16px/1.5 system-ui,sans-serif;color:#1d1d1d;background:#f7f7f5;border:1px solid #ddd;border-top:4px solid ${b};border-radius:8px;padding:24px}
@media(prefers-reduced-motion:no-preference){section{animation:f .4s}}@keyframes f{from{opacity:0}}
h2{font-size:22px;line-height:1.3}h2,p,fieldset{margin:0 0 12px}.h{font-weight:600;border-left:3px solid ${b};padding-left:12px}
fieldset{border:0;padding:0}legend{font-size:14px;font-weight:600;padding:0 0 4px}.o{margin:0 6px 6px 0;display:inline-block}.o input{position:absolute;opacity:0}
.o span,button{display:inline-block;font:inherit;color:inherit;background:#fff;border:1px solid #888;border-radius:99px;padding:5px 14px;cursor:pointer}
:checked+span{forced-color-adjust:none;background:${b};border-color:${b};color:#fff}:focus-visible,:focus-visible+span{outline:3px solid ${b};outline-offset:2px}
.cta{display:inline-block;background:${b};border:0;border-radius:6px;color:#fff;font-weight:600;padding:11px 28px;margin:4px 0 16px;text-decoration:none}
.m{display:flex;flex-wrap:wrap;align-items:center;gap:8px}.m span{color:#555;margin-right:auto}.m .cta{margin:0}.t{border-top:1px solid #ddd;padding-top:14px}
.k{border:0;background:0;padding:0;margin-top:12px;font-size:13px;color:#555;text-decoration:underline}.k[aria-pressed=true]:before{content:"✓ "}
input[type=email]{display:block;box-sizing:border-box;width:100%;max-width:360px;font:inherit;border:1px solid #767676;border-radius:6px;padding:7px 10px;margin:4px 0 8px}
.c{display:flex;gap:8px;font-size:14px;margin:12px 0}.e{color:#b00020}`;

function checkoutLink(ctx) {
  const { campaign, variant, frequency, amount, currency, lang } = ctx;
  const query = { campaign: campaign.id, variant: variant.id, frequency, amount, currency, locale: lang, return: location.href };
  if (!amount) delete query.amount, (query.frequency = variant.default_frequency);
  return `${ctx.origin}/support/${ctx.slug}/?${new URLSearchParams(query)}`;
}

// Amounts follow the chosen frequency; the CTA link follows both.
function choiceRender(ctx, amounts) {
  const box = ctx.root.querySelector('.am');
  if (box && amounts) box.innerHTML = `<legend>${ctx.T.amount}</legend>${radios('a',ctx.amounts[ctx.frequency].map((a)=>[a,money(ctx,a)]),ctx.amount)}`;
  ctx.root.querySelector('.cta').href = checkoutLink(ctx);
}

function appealRender(ctx) {
  const { T, campaign, variant } = ctx;
  const copy = variant.copy;
  ctx.currency = ctx.doc.newsroom.default_currency;
  ctx.amounts = (variant.amounts || {})[ctx.currency] || {};
  const frequencies = FREQUENCIES.filter((f) => (ctx.amounts[f] || []).length);
  const remind = (campaign.remind_choices || []).length;
  ctx.frequency = frequencies.includes(variant.default_frequency) ? variant.default_frequency : frequencies[0];
  ctx.amount = ctx.frequency && ctx.amounts[ctx.frequency][0];
  // Built piece by piece: the minifier can't see into templates nested in templates.
  const paragraphs = (copy.paragraphs || []).map((p) => '<p>' + esc(p) + '</p>').join('');
  const highlight = copy.highlight ? '<p class="h">' + esc(copy.highlight) + '</p>' : '';
  const often = radios('f', frequencies.map((f) => [f, T.freq[FREQUENCIES.indexOf(f)]]), ctx.frequency);
  const choice = frequencies.length ? `<fieldset><legend>${T.often}</legend>${often}</fieldset><fieldset class="am"></fieldset>` : '';
  const later = remind ? `<span>${esc(copy.remind_prompt)}</span><button data-a="remind">${esc(copy.remind||T.remind)}</button>` : '';
  ctx.root.innerHTML = `<style>${appealCss(brandColour(ctx.doc.newsroom.brand_colour))}</style>
<section aria-labelledby="h"><h2 id="h">${esc(copy.heading)}</h2>${paragraphs}${highlight}${choice}
<a class="cta" data-a="click">${esc(copy.cta)}</a>
<div class="m t">${later}<button data-a="dismiss">${esc(copy.not_now||T.notNow)}</button></div>
<button class="k" data-a="count" aria-pressed="${!state.counting}">${T.noCount}</button></section>`;
  choiceRender(ctx, 1);
  ctx.root.addEventListener('change', ({ target }) => {
    if (target.name === 'f') (ctx.frequency = target.value), (ctx.amount = ctx.amounts[target.value][0]);
    if (target.name === 'a') ctx.amount = +target.value;
    if (/^[fa]$/.test(target.name)) choiceRender(ctx, target.name === 'f');
  });
  ctx.root.addEventListener('click', ({ target }) => {
    const control = target.closest('[data-a]');
    const action = control && control.dataset.a;
    if (action === 'count') countingSet(!state.counting), control.setAttribute('aria-pressed', !state.counting);
    if (action === 'dismiss') snooze(campaign.id, Date.now() + campaign.snooze_days * ReaderfundDecide.DAY), appealClose(ctx, T.bye);
    if (action === 'remind') remindOpen(ctx, control.parentNode);
    if (/^(click|dismiss|remind)$/.test(action)) eventSend(ctx, action);
  });
}

// Replace the appeal's body with one line, keeping the heading the section is labelled by.
function appealClose(ctx, text) {
  const section = ctx.root.querySelector('section');
  section.innerHTML = `${section.firstChild.outerHTML}<p class="d" role="status" tabindex="-1">${esc(text)}</p>`;
  section.lastChild.focus();
}
