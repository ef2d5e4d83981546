"""The rate limits' windows: keyed hashes and counts that expire, never an address in the clear."""

from django.db import models


class RateLimitWindow(models.Model):
    """Attempts in one fixed window, keyed by a keyed hash (never the raw IP or address)."""

    key_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_hash", "window_start"], name="ratelimit_unique_window")]
