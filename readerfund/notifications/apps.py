from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "readerfund.notifications"
    label = "notifications"

    def ready(self) -> None:
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.notifications.services import outbox_retry_due

        periodic_jobs_register(outbox_retry_due)
