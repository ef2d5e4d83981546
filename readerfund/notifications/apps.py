from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "readerfund.notifications"
    label = "notifications"
