"""The ledger (supporters, contributions, payments, refunds, disputes, webhook events), the one door to Stripe
(gateway/), webhooks, reconciliation, a supporter's changes to their plan, receipts, exports and retention."""
