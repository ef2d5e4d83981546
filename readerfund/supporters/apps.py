from django.apps import AppConfig


class SupportersConfig(AppConfig):
    name = "readerfund.supporters"
    label = "supporters"
