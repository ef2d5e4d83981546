from django.urls import URLPattern, URLResolver, path

from readerfund.supporters import views
from readerfund.supporters.email_links import email_link

urlpatterns: list[URLPattern | URLResolver] = [
    path("account/<slug:slug>/", views.account_signin, name="supporters-signin"),
    path("account/<slug:slug>/code", views.account_code, name="supporters-code"),
    path("account/<slug:slug>/signin/<str:token>/", views.account_link, name="supporters-link"),
    path("account/<slug:slug>/home/", views.account_home, name="supporters-home"),
    path("account/<slug:slug>/signout", views.account_signout, name="supporters-signout"),
    # Pause and cancel links from the e-mails, without signing in (supporters/email_links.py).
    path("account/<slug:slug>/email/<str:token>/", email_link, name="supporters-email-link"),
]
