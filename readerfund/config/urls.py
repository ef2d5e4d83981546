from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from readerfund.appeals import api as appeals_api
from readerfund.config.openapi import openapi_json


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask every site for one; "no icon", kept for a day, instead of a 404 in every log.
    response = HttpResponse(status=204)
    response["Cache-Control"] = "public, max-age=86400"
    return response


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/newsrooms/<slug:slug>/appeals.json", appeals_api.appeals_json, name="appeals-json"),
    path("api/v1/events", appeals_api.events, name="events"),
    path("api/v1/openapi.json", openapi_json, name="openapi"),
    path("api/v1/bare", appeals_api.bare, name="bare"),
    path("", include("readerfund.embed.urls")),
    path("", include("readerfund.checkout.urls")),
    path("", include("readerfund.payments.urls")),
    path("", include("readerfund.reminders.urls")),
    path("", include("readerfund.supporters.urls")),
    # Last: the demo's article pages match any "<slug>/".
    path("", include("readerfund.demo.urls")),
]
