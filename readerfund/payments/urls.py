from django.urls import URLPattern, URLResolver, path

from readerfund.payments import webhooks

urlpatterns: list[URLPattern | URLResolver] = [
    path("webhooks/stripe/<slug:slug>", webhooks.stripe_webhook, name="stripe-webhook"),
    path("webhooks/stripe", webhooks.stripe_webhook_shared, name="stripe-webhook-shared"),
]
