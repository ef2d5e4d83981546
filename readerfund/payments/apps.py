from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "readerfund.payments"
    label = "payments"
