"""A reader's reminder (the address encrypted, erased once done) and the daily aggregate counts."""

from django.db import models
from django.db.models import Q

from readerfund.core.privacy import EncryptedTextField
from readerfund.newsrooms.models import Newsroom


class Reminder(models.Model):
    """One "remind me later": a date, a language, the appeal it came from, and an address used once.

    The address is encrypted; `email_hash` (keyed, scoped) finds a reader's pending reminder without
    it. Both are blanked when the reminder is handed to the mail queue or cancelled.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"  # handed to the outbox in the same transaction; the outbox sends it once
        CANCELLED = "cancelled"  # the reader withdrew (before or after it went out)

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="reminders")
    email = EncryptedTextField(blank=True)
    email_hash = models.CharField(max_length=64, blank=True)
    remind_on = models.DateField()
    due_at = models.DateTimeField()
    locale = models.CharField(max_length=8, default="en")
    # Plain ids, not foreign keys: the attribution should outlive an edited or deleted campaign.
    campaign_id = models.PositiveBigIntegerField(null=True, blank=True)
    variant_id = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["newsroom", "email_hash"],
                condition=Q(status="pending"),
                name="reminder_one_pending_per_address",
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_status_due")]

    def __str__(self) -> str:
        return f"reminder {self.pk} on {self.remind_on} ({self.status})"


class ReminderDailyCount(models.Model):
    """What remains after the addresses are gone: per newsroom per day, how many of each."""

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="reminder_counts")
    day = models.DateField()
    scheduled = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["newsroom", "day"], name="reminder_count_unique_day")]

    def __str__(self) -> str:
        return f"{self.newsroom_id} {self.day}"
