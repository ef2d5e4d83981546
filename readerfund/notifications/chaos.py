"""Test hook: kill the process at a named point of delivery, to prove nothing is lost or doubled.

READERFUND_CHAOS="after_claim:0.05,after_send:0.02" makes `chaos_point("after_claim")` end the
process (os._exit, no clean-up, like a SIGKILL or a lost machine) with probability 0.05. Unset in
production, where `chaos_point` is a dictionary look-up and nothing more. Used by
tests/chaos/test_worker_kills.py.
"""

from __future__ import annotations

import functools
import os
import random

CHAOS_EXIT_CODE = 86


@functools.cache
def _probabilities(spec: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in spec.split(","):
        name, _, probability = item.strip().partition(":")
        if name:
            points[name] = float(probability or "1")
    return points


def chaos_point(name: str) -> None:
    spec = os.environ.get("READERFUND_CHAOS")
    if not spec:
        return
    probability = _probabilities(spec).get(name, 0.0)
    if probability and random.random() < probability:
        # Say where, so the test can tell which step each kill interrupted.
        os.write(2, f"chaos: killed at {name}\n".encode())
        os._exit(CHAOS_EXIT_CODE)
