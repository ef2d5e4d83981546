// Reader state, kept only in this browser's localStorage under one key per newsroom, in the
// shape decide() reads: {articlesRead, counting, snoozes: {campaign: until ms},
// views: {campaign: [ms]}, bucket: [0, 1)}, plus d and p: the day and the paths counted that day.
// Nothing here leaves the browser. Blocked or full storage makes every page a first visit.
let storeKey;
let state;

function storeGet(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch (e) {}
}

function stateLoad(slug) {
  storeKey = `readerfund:${slug}`;
  state = { articlesRead: 0, counting: true, snoozes: {}, views: {}, bucket: Math.random(), ...storeGet(storeKey) };
}

function stateSave() {
  try {
    localStorage.setItem(storeKey, JSON.stringify(state));
  } catch (e) {}
}

// One article per path per day, so reloads and going back and forth don't inflate the count.
function articleCount(now) {
  const day = Math.floor(now / ReaderfundDecide.DAY);
  if (state.counting) {
    if (state.d !== day) (state.d = day), (state.p = []);
    if (!state.p.includes(location.pathname)) state.p.push(location.pathname), state.articlesRead++;
  }
  stateSave();
}

// Switching counting off forgets what was counted.
function countingSet(on) {
  state.counting = on;
  if (!on) (state.articlesRead = 0), (state.d = state.p = undefined);
  stateSave();
}

function snooze(campaignId, until) {
  state.snoozes[campaignId] = until;
  stateSave();
}

function viewRecord(campaignId, now) {
  const views = state.views[campaignId] || [];
  state.views[campaignId] = views.filter((ms) => ms > now - 30 * ReaderfundDecide.DAY).concat(now).slice(-50);
  stateSave();
}

// Our thank-you page links back with #readerfund-supporter: on a newsroom's own site that is
// the only way to learn it, since our server's storage belongs to another origin.
function supporterCheck(slug) {
  const key = `readerfund:${slug}:supporter`;
  if (/readerfund-supporter/.test(location.hash)) {
    history.replaceState(history.state, '', location.pathname + location.search);
    try {
      localStorage.setItem(key, '1');
    } catch (e) {
      return true;
    }
  }
  return storeGet(key) === 1;
}
