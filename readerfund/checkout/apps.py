from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "readerfund.checkout"
    label = "checkout"

    def ready(self) -> None:
        # Declines the webhooks report count against card testing (payments/declines.py).
        from readerfund.checkout.card_testing import decline_from_event
        from readerfund.payments.declines import decline_listener_register

        decline_listener_register(decline_from_event)
