from django.apps import AppConfig


class EmbedConfig(AppConfig):
    name = "readerfund.embed"
    label = "embed"
