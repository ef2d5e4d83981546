"""The ledger: supporters, contributions, payments and refunds, in integer minor units.

Models hold fields and constraints only; every write goes through payments/services (and the
checkout's services), every Stripe call through the payments/gateway package.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from readerfund.appeals.models import Campaign, Variant
from readerfund.core.money import Money
from readerfund.core.privacy import EncryptedTextField
from readerfund.newsrooms.models import Newsroom


def request_key_new() -> str:
    return secrets.token_urlsafe(24)


def supporter_reference() -> str:
    # A reference for exports and support requests that says nothing about the person.
    return "S-" + secrets.token_hex(6).upper()


class Frequency(models.TextChoices):
    # The values are core.amounts.FREQUENCIES (a test holds them equal); these are the ledger's choices.
    ONE_OFF = "one_off", _("One-off")
    MONTHLY = "monthly", _("Monthly")
    ANNUAL = "annual", _("Annual")


class Supporter(models.Model):
    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="supporters")
    reference = models.CharField(max_length=20, unique=True, default=supporter_reference)
    email = EncryptedTextField(blank=True)
    # Keyed hash of the normalised address, scoped to the newsroom: finds a supporter without plaintext.
    email_hash = models.CharField(max_length=64, blank=True)
    name = EncryptedTextField(blank=True)
    locale = models.CharField(max_length=8, default="en")
    # Legacy: before each recurring contribution had its own Customer (Contribution.provider_customer_id).
    provider_customer_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["newsroom", "email_hash"],
                condition=~models.Q(email_hash=""),
                name="supporter_unique_email_per_newsroom",
            )
        ]

    def __str__(self) -> str:
        return self.reference


class Contribution(models.Model):
    """One decision to support: a one-off payment, or a recurring plan with its status."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # our record exists; Stripe may not have answered yet
        REQUIRES_ACTION = "requires_action", _("Requires authentication")
        ACTIVE = "active", _("Active")  # recurring, paid up
        PAST_DUE = "past_due", _("Past due")  # recurring, a renewal failed; Stripe retries
        SUCCEEDED = "succeeded", _("Succeeded")  # one-off, paid
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")
        REFUSED = "refused", _("Refused")  # e.g. a card from a listed risk country
        PAUSED = "paused", _("Paused")  # recurring, held by the supporter until paused_until

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="contributions")
    supporter = models.ForeignKey(Supporter, on_delete=models.PROTECT, related_name="contributions")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    amount = models.PositiveIntegerField(help_text=_("Minor units, e.g. cents."))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    payment_method_type = models.CharField(max_length=20, default="card")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL)
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL)
    # Set by the checkout page when it is rendered: a double click, reload or retry of the same
    # checkout reuses this contribution and whatever Stripe object it already has.
    request_key = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=20, default="stripe")
    provider_payment_intent_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_plan_id = models.CharField(max_length=64, blank=True)
    provider_setup_intent_id = models.CharField(max_length=64, blank=True)
    provider_payment_method_id = models.CharField(max_length=64, blank=True)
    # Each recurring contribution has a Customer of its own: a Customer's default card bills every one of
    # its subscriptions, so a shared one would let a second checkout re-bill the first plan.
    provider_customer_id = models.CharField(max_length=64, blank=True)
    # Set and committed just before the first create call at the provider, and held as a lease while that
    # request talks to Stripe (checkout/attempts.py). A later attempt that finds it set but no stored id
    # waits for the lease, then looks the object up by its metadata instead of creating a second one.
    provider_attempted_at = models.DateTimeField(null=True, blank=True)
    # The article the reader came from; the thank-you page links back to it.
    return_url = models.URLField(max_length=500, blank=True)
    # When this contribution was added to its variant's ConversionCount (once, when it first succeeds
    # or becomes active).
    counted_at = models.DateTimeField(null=True, blank=True)
    receipt_requested = models.BooleanField(default=False)
    locale = models.CharField(max_length=8, default="en")
    failure_reason = models.CharField(max_length=200, blank=True)
    # A paused plan's first day of charging again (payments/changes.py); empty unless paused.
    paused_until = models.DateField(null=True, blank=True)
    # A plan the supporter canceled runs, and stays active, until the end of its paid period: this day.
    cancels_at = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.frequency} {self.money} ({self.status})"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class ContributionChange(models.Model):
    """A supporter's change to their recurring contribution, committed before the provider is called.

    Its random request key scopes the change's idempotency keys (`<request_key>:<step>`). A second
    identical request while one is in flight, or after it is done, finds this row and changes nothing
    (payments/changes.py)."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amount or frequency")
        PAUSE = "pause", _("Pause")
        RESUME = "resume", _("Resume")
        CANCEL = "cancel", _("Cancel")
        CARD = "card", _("Card")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # the provider call is (or was, if the request died) in flight
        WAITING = "waiting", _("Waiting for the supporter")  # a card change: the page confirms the card
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="changes")
    request_key = models.CharField(max_length=64, unique=True, default=request_key_new)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # What was asked (amount, frequency, months), and for a card change its SetupIntent id. Never the
    # cancellation's reason: that is kept apart from the supporter (CancellationReason).
    parameters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=40, blank=True)
    # A card change: the SetupIntent made for it, the only one its finish accepts.
    setup_intent_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["contribution", "-id"], name="contribution_change_latest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


class CancellationReason(models.Model):
    """Why a supporter canceled, in their own words, for the newsroom's churn report. Deliberately without
    the supporter, the contribution or a time of day: nothing here says who wrote it."""

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="cancellation_reasons")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200)
    created_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.frequency} {self.currency} {self.created_on}"


class Payment(models.Model):
    """Money that arrived: one per successful charge, keyed by the provider's id so it counts once."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("Disputed")  # a dispute is open; the money may be withdrawn
        DISPUTE_LOST = "dispute_lost", _("Dispute lost")

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="payments")
    contribution = models.ForeignKey(Contribution, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    amount_refunded = models.PositiveIntegerField(default=0)
    # What lost disputes took back (the dispute's amount; its fee is on the Dispute row).
    amount_disputed = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUCCEEDED)
    # The PaymentIntent id: one-off payments and each subscription invoice have their own.
    provider_payment_id = models.CharField(max_length=64, unique=True)
    provider_invoice_id = models.CharField(max_length=64, blank=True)
    provider_charge_id = models.CharField(max_length=64, blank=True, db_index=True)
    recovered = models.BooleanField(default=False, help_text=_("Succeeded after an earlier failure."))
    paid_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{Money(self.amount, self.currency)} {self.status}"

    @property
    def amount_net(self) -> int:
        """What the newsroom keeps of it: less refunds and lost disputes (before Stripe's fees)."""
        return max(0, self.amount - self.amount_refunded - self.amount_disputed)


class ProviderPlan(models.Model):
    """The provider's Plan for one (newsroom, amount, currency, interval), made once and reused."""

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="provider_plans")
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=10)  # month | year
    provider = models.CharField(max_length=20, default="stripe")
    provider_plan_id = models.CharField(max_length=64, blank=True)
    # The idempotency key of its create: random, so it never repeats after a restore or in a second deployment.
    request_key = models.CharField(max_length=64, default=request_key_new)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["newsroom", "provider", "amount", "currency", "interval"], name="provider_plan_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{Money(self.amount, self.currency)} / {self.interval}"


class Refund(models.Model):
    """A refund as the provider last described it. Only pending and succeeded ones count against the
    payment: one that failed or was canceled gives the money back to the newsroom."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REQUIRES_ACTION = "requires_action", _("Requires action")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    COUNTED = (Status.PENDING, Status.REQUIRES_ACTION, Status.SUCCEEDED)

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    provider_refund_id = models.CharField(max_length=64, unique=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUCCEEDED)
    created_at = models.DateTimeField()
    # When we last saw the status change (the export's "as of" reads it).
    status_changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refund {Money(self.amount, self.currency)} {self.status}"


class Dispute(models.Model):
    """A chargeback: the reader's bank took, or may take, a payment back. Amounts in minor units."""

    class Status(models.TextChoices):
        WARNING_NEEDS_RESPONSE = "warning_needs_response", _("Inquiry: needs response")
        WARNING_UNDER_REVIEW = "warning_under_review", _("Inquiry: under review")
        WARNING_CLOSED = "warning_closed", _("Inquiry: closed")
        NEEDS_RESPONSE = "needs_response", _("Needs response")
        UNDER_REVIEW = "under_review", _("Under review")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    provider_dispute_id = models.CharField(max_length=64, unique=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    # Stripe's dispute fee, withdrawn with the funds and returned if the dispute is won.
    fee = models.PositiveIntegerField(default=0)
    fee_currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices)
    reason = models.CharField(max_length=40, blank=True)
    funds_withdrawn = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The provider's time of the newest state we applied: an older event's copy never overwrites a newer one.
    provider_updated = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"dispute {Money(self.amount, self.currency)} {self.status}"


class WebhookEvent(models.Model):
    """A provider's event, stored once by its id before it is processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    provider = models.CharField(max_length=20, default="stripe")
    # The newsroom whose endpoint (and signing secret) received it: its objects live in that account only.
    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="webhook_events", null=True)
    # Unique per newsroom, not globally: another newsroom's staff, holding their own signing secret, must not
    # be able to take an event id first and make our real event look like a duplicate.
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The processing task last enqueued: the worker's periodic scan re-enqueues an event whose task
    # was lost (payments.webhooks.webhook_events_requeue).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_event_status_received")]
        constraints = [models.UniqueConstraint(fields=["newsroom", "event_id"], name="webhook_event_unique")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class ConversionCount(models.Model):
    """A/B results: contributions started per variant, per currency and frequency. Aggregate only."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="conversions")
    currency = models.CharField(max_length=3)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    count = models.PositiveIntegerField(default=0)
    amount = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "currency", "frequency"], name="conversion_unique")]

    def __str__(self) -> str:
        return f"{self.variant} {self.currency} {self.frequency}: {self.count}"


class ReconcileCursor(models.Model):
    """How far `readerfund reconcile` has listed one type of a newsroom's Stripe objects: every object
    created at or before `created_through` was read, so the next run lists only what came after.

    Per account as well (its fingerprint, payments/accounts.py): a newsroom that moves to another Stripe
    account, or a deployment pointed at another emulator, starts from the beginning there."""

    class ObjectType(models.TextChoices):
        PAYMENT_INTENT = "payment_intent", _("Payment intents")
        SUBSCRIPTION = "subscription", _("Subscriptions")
        REFUND = "refund", _("Refunds")

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="reconcile_cursors")
    account = models.CharField(max_length=16)
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    created_through = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["newsroom", "account", "object_type"], name="reconcile_cursor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.object_type} through {self.created_through:%Y-%m-%d %H:%M}"


class EmailLinkUse(models.Model):
    """A pause or cancel link from a supporter's e-mail (payments/contribution_links.py) that has done its
    work: the same link then says "already done" and changes nothing. Only a keyed hash of the token is kept
    (a token in the clear is a working link until it expires), and nothing that names the supporter."""

    token_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"link used {self.used_at:%Y-%m-%d}"


class RenewalFailure(models.Model):
    """A renewal invoice whose payment failed, from its first failure until it is paid or the plan ends.

    One per invoice. Under our own retry schedule (payments/dunning.py) the worker pays the invoice again
    on the days of RENEWAL_RETRY_DAYS; `retries_made` is committed with a lease before each call, so a
    worker killed mid-schedule repeats at most the call in flight, with the same idempotency key. A payment
    after the failure is a recovery: its amount and the days it took stay here for the dashboard to sum per
    month (`recovered_at`) and currency. Nothing here names the supporter."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # unpaid; retries (ours or Stripe's) may still pay it
        RECOVERED = "recovered", _("Recovered")  # paid after the failure
        CANCELED = "canceled", _("Canceled")  # the plan ended unpaid after the last retry
        CLOSED = "closed", _("Closed")  # ended otherwise (the supporter canceled, the invoice was voided)

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="renewal_failures")
    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="renewal_failures")
    provider_invoice_id = models.CharField(max_length=64)
    # Scopes this failure's idempotency keys (`<request_key>:retry-<n>`, `:cancel`): random, never repeats.
    request_key = models.CharField(max_length=64, unique=True, default=request_key_new)
    amount = models.PositiveIntegerField(help_text=_("The invoice's amount due, minor units."))
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    first_failed_at = models.DateTimeField()
    # Our own retries made so far; the next one is due at next_retry_at (None: Stripe retries, or none is left).
    retries_made = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # The worker that claimed the due retry holds it until then; a dead worker's claim runs out.
    retry_claimed_until = models.DateTimeField(null=True, blank=True)
    recovered_amount = models.PositiveIntegerField(default=0)
    recovered_at = models.DateTimeField(null=True, blank=True)
    days_to_recover = models.PositiveSmallIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["newsroom", "provider_invoice_id"], name="renewal_failure_unique_invoice")
        ]
        indexes = [models.Index(fields=["status", "next_retry_at"], name="renewal_failure_due")]

    def __str__(self) -> str:
        return f"renewal failure {Money(self.amount, self.currency)} {self.status}"
