"""GET /embed.js: the built bundle, cacheable by anyone (it holds nothing about a reader)."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

from readerfund.core.http import etag_matches
from readerfund.embed.build import embed_bundle


def embed_js(request: HttpRequest) -> HttpResponse:
    body, etag = embed_bundle()
    if etag_matches(etag, request.META.get("HTTP_IF_NONE_MATCH", "")):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
