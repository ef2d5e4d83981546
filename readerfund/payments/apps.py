from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "readerfund.payments"
    label = "payments"

    def ready(self) -> None:
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.payments.webhooks import webhook_events_requeue

        periodic_jobs_register(webhook_events_requeue)
