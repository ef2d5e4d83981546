"""Reads for appeals. The published document is served from process memory.

Each process keeps the newsroom's compiled document and the encoded per-country responses; it
re-reads the version number at most once per `_RECHECK_SECONDS`, so an editor's save shows up
within a couple of seconds and a pageview costs no database query.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from readerfund.appeals.models import PublishedAppeals
from readerfund.appeals.publish import document_for_request

_RECHECK_SECONDS = 2.0
# Responses are recomputed at least this often even when nothing was saved, so schedules apply.
_RESPONSE_TTL_SECONDS = 30.0


@dataclass
class _Entry:
    version: int
    document: dict[str, Any]
    checked_at: float
    variant_ids: dict[int, set[int]]  # campaign id -> variant ids
    locales: frozenset[str]  # every locale some variant has copy in
    responses: dict[tuple[str | None, str], tuple[float, bytes, str]] = field(default_factory=dict)


_cache: dict[str, _Entry] = {}
# Slugs recently found unpublished, so requests naming made-up newsrooms don't each cost a query.
_missing: dict[str, float] = {}
_MISSING_MAX = 1024
_lock = threading.Lock()


def _load(slug: str) -> _Entry | None:
    row = PublishedAppeals.objects.filter(newsroom__slug=slug).values("version", "document").first()
    if row is None:
        return None
    document = row["document"]
    campaigns = document.get("campaigns", [])
    variant_ids = {c["id"]: {v["id"] for v in c["variants"]} for c in campaigns}
    locales = frozenset(locale for c in campaigns for v in c["variants"] for locale in v["copy"])
    return _Entry(
        version=row["version"],
        document=document,
        checked_at=time.monotonic(),
        variant_ids=variant_ids,
        locales=locales,
    )


def _entry(slug: str) -> _Entry | None:
    if "\x00" in slug:  # no newsroom's slug; PostgreSQL would refuse the query (a 500)
        return None
    now = time.monotonic()
    entry = _cache.get(slug)
    if entry is not None and now - entry.checked_at < _RECHECK_SECONDS:
        return entry
    missed_at = _missing.get(slug)
    if missed_at is not None and now - missed_at < _RECHECK_SECONDS:
        return None
    if entry is not None:
        version = PublishedAppeals.objects.filter(newsroom__slug=slug).values_list("version", flat=True).first()
        if version == entry.version:
            entry.checked_at = now
            return entry
    fresh = _load(slug)
    with _lock:
        if fresh is None:
            _cache.pop(slug, None)
            if len(_missing) >= _MISSING_MAX:
                _missing.clear()
            _missing[slug] = now
        else:
            _cache[slug] = fresh
            _missing.pop(slug, None)
    return fresh


def published_response(*, slug: str, country: str | None, locale: str | None) -> tuple[bytes, str] | None:
    """The encoded JSON and its ETag for one (country, locale), or None for an unknown newsroom.

    A locale no copy is written in gets the newsroom's default locale: the same answer, and it keeps
    the per-process response cache to (countries x written locales) whatever readers send.
    """
    entry = _entry(slug)
    if entry is None:
        return None
    if locale not in entry.locales:
        locale = entry.document["newsroom"].get("default_locale") or "en"
    key = (country, locale)
    cached = entry.responses.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _RESPONSE_TTL_SECONDS:
        return cached[1], cached[2]
    body = json.dumps(
        document_for_request(entry.document, country=country, locale=locale, now=timezone.now()),
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    entry.responses[key] = (now, body, etag)
    return body, etag


def published_variant_exists(*, slug: str, campaign_id: int, variant_id: int) -> bool | None:
    """None when the newsroom is unknown; else whether the variant is in the published document."""
    entry = _entry(slug)
    if entry is None:
        return None
    return variant_id in entry.variant_ids.get(campaign_id, set())


def published_campaign_exists(*, slug: str, campaign_id: int) -> bool:
    entry = _entry(slug)
    return entry is not None and campaign_id in entry.variant_ids


def published_cache_clear() -> None:
    with _lock:
        _cache.clear()
        _missing.clear()
