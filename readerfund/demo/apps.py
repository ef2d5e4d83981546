from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "readerfund.demo"
    label = "demo"
