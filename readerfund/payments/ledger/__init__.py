"""The ledger's sync services: bring our contributions, payments, refunds and disputes in line with the
provider.

Each service reads the object's *current* state through the gateway, decides in plain code, and writes
what it implies in one short transaction, so running one twice, or running an older event after a
newer one, ends in the same ledger:
- a Payment is keyed by the provider's payment id (unique), a Refund by the refund id, a Dispute by its id;
- a contribution's status is derived from the current object, never from the event that woke us, and is
  written in one place (status.py) by a pure transition table (payments/transitions.py);
- no provider call runs inside a transaction (the gateway refuses one), so SQLite's one write lock and
  PostgreSQL's row locks are never held across a round-trip to Stripe.

Every service is scoped to one newsroom: its objects live in that newsroom's own Stripe account, and
only that newsroom's rows are looked at. Callers select the account (`gateway.account_use`).

Side effects that must happen once ride on the same rows: the variant's ConversionCount is bumped
when `counted_at` is first set, the receipt e-mail is queued under the key `receipt-<payment id>`.
"""

from readerfund.payments.ledger.disputes import dispute_sync
from readerfund.payments.ledger.matching import CHECKOUT_KEY, CONTRIBUTION_KEY, provider_metadata
from readerfund.payments.ledger.one_off import contribution_apply_intent, payment_intent_sync
from readerfund.payments.ledger.recurring import (
    contribution_apply_subscription,
    invoice_sync,
    subscription_sync,
)
from readerfund.payments.ledger.refunds import charge_refund_sync, payment_intent_refund_sync, refund_sync
from readerfund.payments.ledger.status import contribution_status_apply

__all__ = [
    "CHECKOUT_KEY",
    "CONTRIBUTION_KEY",
    "charge_refund_sync",
    "contribution_apply_intent",
    "contribution_apply_subscription",
    "contribution_status_apply",
    "dispute_sync",
    "invoice_sync",
    "payment_intent_refund_sync",
    "payment_intent_sync",
    "provider_metadata",
    "refund_sync",
    "subscription_sync",
]
