from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "readerfund.reminders"
    label = "reminders"

    def ready(self) -> None:
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.reminders.services import reminders_due_send

        periodic_jobs_register(reminders_due_send)
