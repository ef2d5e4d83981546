from django.urls import URLPattern, URLResolver, path

from readerfund.checkout import authenticate, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("support/checkout.js", views.checkout_js, name="checkout-js"),
    path("support/authenticate.js", views.authenticate_js, name="checkout-authenticate-js"),
    path("support/proof.js", views.proof_js, name="checkout-proof-js"),
    path("support/<slug:slug>/", views.checkout_page, name="checkout-page"),
    path("support/<slug:slug>/start", views.checkout_start, name="checkout-start"),
    path("support/<slug:slug>/pay", views.checkout_pay, name="checkout-pay"),
    path("support/<slug:slug>/thanks/<str:request_key>/", views.checkout_thanks, name="checkout-thanks"),
    path("support/<slug:slug>/refused/<str:request_key>/", views.checkout_refused, name="checkout-refused"),
    path(
        "support/<slug:slug>/authenticate/<str:token>/", authenticate.renewal_authenticate, name="checkout-authenticate"
    ),
]
