"""Aggregate counters: add to a row keyed by a unique constraint, creating it on first use.

Every count readerfund keeps (appeal events, conversions, reminders, rate-limit windows) is such a
row; none is a per-reader record.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F


def counter_add(
    model: type[models.Model],
    *,
    key: dict[str, Any],
    increments: dict[str, int],
    defaults: dict[str, Any] | None = None,
) -> None:
    """Add `increments` to the row matching `key` (unique), creating it with `defaults` if missing."""
    rows = model._default_manager.filter(**key)
    updates = {name: F(name) + amount for name, amount in increments.items()}
    if rows.update(**updates):
        return
    try:
        # A savepoint: another process may create the same row between our update and insert.
        with transaction.atomic():
            model._default_manager.create(**key, **increments, **(defaults or {}))
    except IntegrityError:
        rows.update(**updates)
