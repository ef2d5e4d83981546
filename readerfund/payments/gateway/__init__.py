"""The one door to the payment provider (Stripe). Nothing outside this package imports `stripe`.

Everything in and out is our own dataclasses (payments/provider.py), so a second provider could
implement the same functions. Every call goes to the account selected with `account_use(...)` (each
newsroom has its own, payments/accounts.py; one StripeClient per thread and account), and is refused
while a database transaction is open.

Every write takes an idempotency key `<request key>:<step>` from our own record's random request key.
Stripe dedupes by it for 24 hours; localstripe ignores it, so callers must also reuse the ids they
stored (see checkout/services.py).

Callers use the package (`from readerfund.payments import gateway; gateway.payment_intent_get(...)`);
the modules split it by what it talks to: client, customers, one_off, recurring, events.
"""

from readerfund.payments.gateway.client import (
    API_VERSION,
    NoProviderAccount,
    ProviderCallInTransaction,
    account_current,
    account_use,
    error_translate,
)
from readerfund.payments.gateway.customers import (
    customer_create,
    customer_default_payment_method_get,
    customer_default_payment_method_set,
    customer_delete,
    payment_method_attach,
    payment_method_detach,
    payment_method_get,
    setup_intent_create,
    setup_intent_get,
)
from readerfund.payments.gateway.events import EventSignatureInvalid, event_verify
from readerfund.payments.gateway.one_off import (
    charge_get,
    dispute_get,
    payment_intent_create,
    payment_intent_find,
    payment_intent_get,
    payment_intents_page,
    refund_create,
    refund_get,
    refunds_page,
)
from readerfund.payments.gateway.recurring import (
    invoice_create,
    invoice_failed_attempt_seen,
    invoice_get,
    invoice_pay,
    invoice_with_subscription_get,
    invoices_list,
    plan_create,
    subscription_cancel,
    subscription_cancel_at_period_end,
    subscription_create,
    subscription_find,
    subscription_get,
    subscription_invoice_ids,
    subscription_pause,
    subscription_plan_change,
    subscription_resume,
    subscriptions_list,
    subscriptions_page,
)
from readerfund.payments.provider import (
    GatewayCharge,
    GatewayConfigurationError,
    GatewayDispute,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayIdempotencyInFlight,
    GatewayIntent,
    GatewayInvoice,
    GatewayNotFound,
    GatewayPaymentMethod,
    GatewayPlan,
    GatewayRateLimited,
    GatewayRefund,
    GatewaySetupIntent,
    GatewaySubscription,
    GatewayUnavailable,
    PaymentDeclined,
)

__all__ = [
    "API_VERSION",
    "NoProviderAccount",
    "ProviderCallInTransaction",
    "account_current",
    "account_use",
    "EventSignatureInvalid",
    "GatewayCharge",
    "GatewayDispute",
    "GatewayConfigurationError",
    "GatewayError",
    "GatewayIdempotencyConflict",
    "GatewayIdempotencyInFlight",
    "GatewayIntent",
    "GatewayInvoice",
    "GatewayNotFound",
    "GatewayPaymentMethod",
    "GatewayPlan",
    "GatewayRateLimited",
    "GatewayRefund",
    "GatewaySetupIntent",
    "GatewaySubscription",
    "GatewayUnavailable",
    "PaymentDeclined",
    "charge_get",
    "dispute_get",
    "customer_create",
    "customer_default_payment_method_get",
    "customer_default_payment_method_set",
    "customer_delete",
    "error_translate",
    "event_verify",
    "invoice_create",
    "invoice_failed_attempt_seen",
    "invoice_get",
    "invoice_pay",
    "invoice_with_subscription_get",
    "invoices_list",
    "payment_intent_create",
    "payment_intent_find",
    "payment_intent_get",
    "payment_intents_page",
    "payment_method_attach",
    "payment_method_detach",
    "payment_method_get",
    "plan_create",
    "refund_create",
    "refund_get",
    "refunds_page",
    "setup_intent_create",
    "setup_intent_get",
    "subscription_cancel",
    "subscription_cancel_at_period_end",
    "subscription_create",
    "subscription_find",
    "subscription_get",
    "subscription_invoice_ids",
    "subscription_pause",
    "subscription_plan_change",
    "subscription_resume",
    "subscriptions_list",
    "subscriptions_page",
]
