"""What of a Stripe event is stored: everything but the person."""

from __future__ import annotations

from readerfund.payments.event_redaction import event_redact


def test_billing_details_evidence_and_mandate_browser_are_dropped_at_any_depth_and_ids_kept() -> None:
    event = {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_1",
                "amount": 500,
                "receipt_email": "reader@example.org",
                "metadata": {"checkout": "key"},
                "charges": {"data": [{"id": "ch_1", "billing_details": {"name": "Ada", "email": "a@example.org"}}]},
                "evidence": {"customer_name": "Ada"},
                "customer_acceptance": {"online": {"ip_address": "203.0.113.9", "user_agent": "Firefox"}},
            }
        },
    }
    redacted = event_redact(event)
    assert "Ada" not in repr(redacted) and "example.org" not in repr(redacted) and "203.0.113.9" not in repr(redacted)
    obj = redacted["data"]["object"]
    kept = (obj["id"], obj["amount"], obj["metadata"], obj["charges"]["data"][0]["id"])
    assert kept == ("pi_1", 500, {"checkout": "key"}, "ch_1")
    assert event["data"]["object"]["receipt_email"] == "reader@example.org"  # the caller's copy is untouched
