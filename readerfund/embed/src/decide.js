// The appeal's decision rules: the only implementation, pure (no DOM, no storage, no clock).
// The bundle and node's tests load this same file.
//
// decide(doc, reader, page, now) -> {campaign, variant} or null
//   doc:    the published appeals.json document
//   reader: {articlesRead, counting, supporter, snoozes: {campaignId: untilMs},
//            views: {campaignId: [ms, ...]}, bucket: a number in [0, 1) kept per browser}
//   page:   {section, locale}
//   now:    milliseconds since the epoch
//
// When the reader has switched counting off we know nothing of their reading, so a campaign
// that asks for more than one article read is skipped (the page being read is the one article
// we may assume). Section and locale targeting still apply: they describe the page, not the reader.
var ReaderfundDecide = (() => {
  const DAY = 864e5;
  const fits = (list, value) => !(list && list.length) || list.indexOf(value) >= 0;

  const eligible = (c, r, page, now) => {
    const t = c.target || {};
    const cap = c.max_views_per_30_days;
    const seen = ((r.views || {})[c.id] || []).filter((ms) => ms > now - 30 * DAY);
    // Date.parse(null) is NaN, which compares false: an open start or end never excludes.
    return (
      !(Date.parse(c.starts_at) > now) &&
      !(Date.parse(c.ends_at) <= now) &&
      fits(t.locales, page.locale) &&
      fits(t.sections, (page.section || '').toLowerCase()) &&
      (r.counting === false ? 1 : r.articlesRead || 0) >= (t.min_articles || 0) &&
      !(t.skip_supporters && r.supporter) &&
      !((r.snoozes || {})[c.id] > now) &&
      !(cap > 0 && seen.length >= cap)
    );
  };

  // The same bucket always lands on the same variant; the offset per campaign keeps one
  // browser from being in the first variant of every campaign.
  const variantFor = (c, bucket) => {
    const variants = c.variants.filter((v) => v.weight > 0);
    let x = ((bucket + c.id * 0.618034) % 1) * variants.reduce((sum, v) => sum + v.weight, 0);
    return variants.find((v) => (x -= v.weight) < 0) || variants[variants.length - 1];
  };

  const decide = (doc, reader, page, now) => {
    const campaigns = ((doc && doc.campaigns) || []).slice().sort((a, b) => b.priority - a.priority || a.id - b.id);
    for (const campaign of campaigns) {
      const variant = eligible(campaign, reader, page, now) && variantFor(campaign, reader.bucket || 0);
      if (variant) return { campaign, variant };
    }
    return null;
  };

  return { decide, variantFor, DAY };
})();
if (typeof module !== 'undefined' && module) module.exports = ReaderfundDecide;
