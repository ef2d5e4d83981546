from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "readerfund.checkout"
    label = "checkout"
