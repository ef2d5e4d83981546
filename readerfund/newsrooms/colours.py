"""The newsroom's brand colour as our pages use it: behind white text, so it must reach WCAG AA.

The same rule as the embed's `brandColour()` (readerfund/embed/src/appeal.js). Pure: no Django import.
"""

from __future__ import annotations

import re

FALLBACK = "#1d1d1d"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(hex_colour: str) -> float:
    return 1.05 / (relative_luminance(hex_colour) + 0.05)


def accessible_brand_colour(hex_colour: str) -> str:
    """The brand colour if white text on it reaches 4.5:1, else near-black."""
    if _HEX.match(hex_colour or "") and contrast_with_white(hex_colour) >= 4.5:
        return hex_colour
    return FALLBACK
