from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "readerfund.payments"
    label = "payments"

    def ready(self) -> None:
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.payments.card_expiry import cards_expiring_notify_due
        from readerfund.payments.dunning import renewal_retries_due
        from readerfund.payments.webhooks import webhook_events_requeue

        periodic_jobs_register(webhook_events_requeue)
        # Our own retries of failed renewals, for newsrooms not on Stripe's Smart Retries.
        periodic_jobs_register(renewal_retries_due)
        # Cards about to expire, read from Stripe once a day per newsroom.
        periodic_jobs_register(cards_expiring_notify_due)
