// Boot: find our own script tag, count the article, fetch the published appeals, decide, show.
// Whatever fails, the article stays as it was: no placeholder, at most one console.warn.
function eventSend(ctx, event) {
  // A string beacon goes as text/plain: no CORS preflight, and it outlives a click's navigation.
  navigator.sendBeacon(`${ctx.origin}/api/v1/events`, JSON.stringify({ newsroom: ctx.slug, campaign: ctx.campaign.id, variant: ctx.variant.id, event }));
}

function boot(script) {
  const { newsroom: slug, section = '' } = script.dataset;
  const lang = /^ru/i.test(document.documentElement.lang) ? 'ru' : 'en';
  const origin = new URL(script.src).origin;
  stateLoad(slug);
  const supporter = supporterCheck(slug);
  articleCount(Date.now());
  return fetch(`${origin}/api/v1/newsrooms/${slug}/appeals.json?locale=${lang}`, { credentials: 'omit', signal: AbortSignal.timeout(3000) })
    .then((response) => {
      if (!response.ok) throw Error(response.status);
      return response.json();
    })
    .then((doc) => {
      const ctx = ReaderfundDecide.decide(doc, { ...state, supporter }, { section, locale: lang }, Date.now());
      if (!ctx) return false;
      // The placeholder goes in only now that there is an appeal to show: no layout jump otherwise.
      const host = document.createElement('div');
      script.after(host);
      Object.assign(ctx, { doc, slug, lang, origin, T: TEXT[lang], root: host.attachShadow({ mode: 'open' }) });
      appealRender(ctx);
      viewRecord(ctx.campaign.id, Date.now());
      eventSend(ctx, 'view');
      return true;
    });
}

// The decision's outcome on our own tag (data-readerfund-decided: shown, none or failed), so a page, or a
// test that checks nothing is shown, can tell "decided: nothing" from "not decided yet". Stays in the page.
function decided(script, outcome) {
  if (script) script.dataset.readerfundDecided = outcome;
}

// boot runs now, while document.currentScript is ours; any failure ends in the one warning.
const readerfundScript = document.currentScript;
new Promise((done) => done(boot(readerfundScript)))
  .then((shown) => decided(readerfundScript, shown ? 'shown' : 'none'))
  .catch((e) => {
    decided(readerfundScript, 'failed');
    console.warn(`readerfund: no appeal shown (${e.message})`);
  });
