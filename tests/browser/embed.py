"""Waiting for the embed's decision in a browser test: the positive signal a negative check waits for.

The embed marks its own script tag when it has decided (data-readerfund-decided: shown, none or failed).
A test asserting that no appeal is shown waits for that first; after a fixed sleep it could pass only
because nothing had rendered yet.
"""

from __future__ import annotations

from typing import Any


def decision_wait(page: Any, *, timeout_ms: float = 10_000) -> str:
    """Wait until the embed on the page has decided; return what: "shown", "none" or "failed"."""
    tag = page.locator("script[data-newsroom][data-readerfund-decided]")
    tag.wait_for(state="attached", timeout=timeout_ms)
    return str(tag.get_attribute("data-readerfund-decided"))
