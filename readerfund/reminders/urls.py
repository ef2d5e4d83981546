from django.urls import URLPattern, URLResolver, path

from readerfund.reminders import api, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/reminders", api.reminders, name="reminders-api"),
    path("reminders/unsubscribe/<str:token>/", views.unsubscribe, name="reminder-unsubscribe"),
]
