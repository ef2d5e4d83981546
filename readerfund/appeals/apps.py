from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "readerfund.appeals"
    label = "appeals"
