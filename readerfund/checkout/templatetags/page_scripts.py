"""`{% our_script "checkout-js" %}` and `{% stripe_js url %}`: the only ways a payment page loads a script.

The first writes the script's integrity (checkout/scripts.py); the second tells the page's CSP that this
page may load Stripe.js from that origin (core/headers.py), so no other page can.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from readerfund.checkout.scripts import OUR_SCRIPTS
from readerfund.core.headers import payment_script_allow

register = template.Library()


@register.simple_tag
def our_script(url_name: str) -> SafeString:
    script = OUR_SCRIPTS[url_name]
    return format_html('<script src="{}" integrity="{}"></script>', reverse(url_name), script.integrity())


@register.simple_tag(takes_context=True)
def stripe_js(context: Any, url: str) -> SafeString:
    payment_script_allow(context["request"], url)
    return format_html('<script src="{}"></script>', url)
