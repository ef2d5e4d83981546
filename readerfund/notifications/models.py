"""The outbox's one row per e-mail: its key, template, locale, encrypted address, and its send state and lease."""

from django.db import models

from readerfund.core.privacy import EncryptedTextField
from readerfund.newsrooms.models import Newsroom


class OutboxMessage(models.Model):
    """One e-mail to send exactly once, keyed by `message_key` (which also makes its Message-ID).

    The address and the template context are encrypted at rest and blanked once the message has
    been sent, cancelled or given up on; what remains says only that a message went out.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        CANCELLED = "cancelled"

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="outbox_messages")
    message_key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=100)
    locale = models.CharField(max_length=8)
    to_address = EncryptedTextField(blank=True)
    context = EncryptedTextField(blank=True, help_text="JSON; may hold personal data, hence encrypted.")
    unsubscribe_url = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(help_text="Not tried again before this (backoff after an SMTP error).")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="Lease of the worker sending it.")
    enqueued_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The send task last enqueued for it.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "available_at"], name="outbox_status_available")]

    def __str__(self) -> str:
        return f"{self.message_key} ({self.status})"
