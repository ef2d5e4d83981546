// The appeal's decision rules, table by table. Run: node --test readerfund/embed/tests/
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { decide, variantFor, DAY } = require('../src/decide.js');

const NOW = Date.parse('2026-06-15T12:00:00Z');

function campaign(id, over = {}) {
  const { target = {}, ...rest } = over;
  return {
    id,
    placement: 'article-end',
    priority: 0,
    starts_at: null,
    ends_at: null,
    target: { min_articles: 0, locales: [], sections: [], skip_supporters: true, ...target },
    snooze_days: 7,
    max_views_per_30_days: 0,
    remind_choices: [14, 30, 90],
    variants: [{ id: id * 10 + 1, key: 'a', weight: 1, copy: { heading: 'Hi', cta: 'Go' } }],
    ...rest,
  };
}

function reader(over = {}) {
  return { articlesRead: 1, counting: true, supporter: false, snoozes: {}, views: {}, bucket: 0.5, ...over };
}

const PAGE = { section: 'politics', locale: 'en' };
const doc = (...campaigns) => ({ newsroom: { slug: 'demo' }, locale: 'en', campaigns });
const chosen = (d, r = reader(), page = PAGE, now = NOW) => {
  const result = decide(d, r, page, now);
  return result && result.campaign.id;
};

test('who sees the appeal', async (t) => {
  const cases = [
    ['an untargeted live campaign shows', [campaign(1)], reader(), PAGE, 1],
    ['no campaigns, no appeal', [], reader(), PAGE, null],
    ['snoozed reader sees nothing', [campaign(1)], reader({ snoozes: { 1: NOW + DAY } }), PAGE, null],
    ['an expired snooze no longer hides it', [campaign(1)], reader({ snoozes: { 1: NOW - 1 } }), PAGE, 1],
    ['a snooze of another campaign does not hide this one', [campaign(1)], reader({ snoozes: { 2: NOW + DAY } }), PAGE, 1],
    ['supporter is skipped', [campaign(1)], reader({ supporter: true }), PAGE, null],
    [
      'supporter sees a campaign that does not skip supporters',
      [campaign(1, { target: { skip_supporters: false } })],
      reader({ supporter: true }),
      PAGE,
      1,
    ],
    ['wrong section', [campaign(1, { target: { sections: ['culture'] } })], reader(), PAGE, null],
    ['right section', [campaign(1, { target: { sections: ['culture', 'politics'] } })], reader(), PAGE, 1],
    ['section compares case-insensitively', [campaign(1, { target: { sections: ['politics'] } })], reader(), { section: 'Politics', locale: 'en' }, 1],
    ['page without a section misses a section-targeted campaign', [campaign(1, { target: { sections: ['politics'] } })], reader(), { locale: 'en' }, null],
    ['wrong locale', [campaign(1, { target: { locales: ['ru'] } })], reader(), PAGE, null],
    ['right locale', [campaign(1, { target: { locales: ['ru'] } })], reader(), { section: 'politics', locale: 'ru' }, 1],
    ['below the article threshold', [campaign(1, { target: { min_articles: 3 } })], reader({ articlesRead: 2 }), PAGE, null],
    ['at the article threshold', [campaign(1, { target: { min_articles: 3 } })], reader({ articlesRead: 3 }), PAGE, 1],
    ['above the article threshold', [campaign(1, { target: { min_articles: 3 } })], reader({ articlesRead: 9 }), PAGE, 1],
    ['counting off skips a threshold campaign', [campaign(1, { target: { min_articles: 3 } })], reader({ counting: false, articlesRead: 9 }), PAGE, null],
    ['counting off still shows a one-article campaign', [campaign(1, { target: { min_articles: 1 } })], reader({ counting: false, articlesRead: 0 }), PAGE, 1],
    ['counting off still shows an untargeted campaign', [campaign(1)], reader({ counting: false }), PAGE, 1],
    ['not started yet', [campaign(1, { starts_at: '2026-06-16T00:00:00Z' })], reader(), PAGE, null],
    ['started', [campaign(1, { starts_at: '2026-06-15T11:59:59Z' })], reader(), PAGE, 1],
    ['ended', [campaign(1, { ends_at: '2026-06-15T12:00:00Z' })], reader(), PAGE, null],
    ['not ended yet', [campaign(1, { ends_at: '2026-06-15T12:00:01Z' })], reader(), PAGE, 1],
    [
      'views cap reached within 30 days',
      [campaign(1, { max_views_per_30_days: 2 })],
      reader({ views: { 1: [NOW - DAY, NOW - 2 * DAY] } }),
      PAGE,
      null,
    ],
    [
      'views older than 30 days do not count',
      [campaign(1, { max_views_per_30_days: 2 })],
      reader({ views: { 1: [NOW - DAY, NOW - 31 * DAY] } }),
      PAGE,
      1,
    ],
    ['a cap of 0 means no cap', [campaign(1)], reader({ views: { 1: Array(50).fill(NOW - DAY) } }), PAGE, 1],
    ['highest priority wins', [campaign(1, { priority: 1 }), campaign(2, { priority: 5 })], reader(), PAGE, 2],
    ['equal priority: lowest id wins', [campaign(2), campaign(1)], reader(), PAGE, 1],
    [
      'a higher-priority campaign that does not apply falls through',
      [campaign(1, { priority: 1 }), campaign(2, { priority: 5, target: { sections: ['culture'] } })],
      reader(),
      PAGE,
      1,
    ],
    [
      'a snoozed higher-priority campaign falls through',
      [campaign(1, { priority: 1 }), campaign(2, { priority: 5 })],
      reader({ snoozes: { 2: NOW + DAY } }),
      PAGE,
      1,
    ],
    ['a campaign with only zero weights shows nothing', [campaign(1, { variants: [{ id: 5, weight: 0 }] })], reader(), PAGE, null],
  ];
  for (const [name, campaigns, r, page, expected] of cases) {
    await t.test(name, () => assert.equal(chosen(doc(...campaigns), r, page), expected));
  }
});

test('a missing or empty document decides nothing', () => {
  assert.equal(decide(null, reader(), PAGE, NOW), null);
  assert.equal(decide({}, reader(), PAGE, NOW), null);
});

test('variant weights are honoured over many buckets', () => {
  const c = campaign(7, {
    variants: [
      { id: 1, weight: 1 },
      { id: 2, weight: 3 },
      { id: 3, weight: 0 },
      { id: 4, weight: 6 },
    ],
  });
  const counts = { 1: 0, 2: 0, 3: 0, 4: 0 };
  const n = 10000;
  for (let i = 0; i < n; i++) counts[variantFor(c, (i + 0.5) / n).id]++;
  assert.equal(counts[3], 0);
  for (const [id, share] of [[1, 0.1], [2, 0.3], [4, 0.6]]) {
    assert.ok(Math.abs(counts[id] / n - share) < 0.02, `variant ${id}: ${counts[id]} of ${n}`);
  }
});

test('weights are honoured with random buckets too', () => {
  const c = campaign(3, { variants: [{ id: 1, weight: 1 }, { id: 2, weight: 1 }] });
  let first = 0;
  for (let i = 0; i < 10000; i++) if (variantFor(c, Math.random()).id === 1) first++;
  assert.ok(Math.abs(first / 10000 - 0.5) < 0.03, `${first} of 10000`);
});

test('the same bucket always gets the same variant', () => {
  const c = campaign(1, { variants: [{ id: 1, weight: 1 }, { id: 2, weight: 1 }, { id: 3, weight: 1 }] });
  for (const bucket of [0, 0.1, 0.33, 0.5, 0.999]) {
    const first = decide(doc(c), reader({ bucket }), PAGE, NOW).variant.id;
    for (let i = 0; i < 5; i++) assert.equal(decide(doc(c), reader({ bucket }), PAGE, NOW).variant.id, first);
  }
});

test('different buckets reach every variant', () => {
  const c = campaign(1, { variants: [{ id: 1, weight: 1 }, { id: 2, weight: 1 }] });
  const seen = new Set();
  for (let i = 0; i < 20; i++) seen.add(variantFor(c, i / 20).id);
  assert.deepEqual([...seen].sort(), [1, 2]);
});
