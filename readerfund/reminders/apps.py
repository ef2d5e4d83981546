from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "readerfund.reminders"
    label = "reminders"
