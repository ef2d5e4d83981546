from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "readerfund.payments"
    label = "payments"

    def ready(self) -> None:
        # The purge claims each newsroom's day on its row, so it runs once a day however many workers scan.
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.payments.retention import supporters_lapsed_purge_due
        from readerfund.payments.webhooks import webhook_events_requeue

        periodic_jobs_register(webhook_events_requeue, supporters_lapsed_purge_due)
