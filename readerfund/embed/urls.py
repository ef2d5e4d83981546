from django.urls import path

from readerfund.embed.views import embed_js

urlpatterns = [path("embed.js", embed_js, name="embed-js")]
