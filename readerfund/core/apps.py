from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "readerfund.core"
    label = "core"
