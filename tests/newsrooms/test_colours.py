import pytest

from readerfund.newsrooms.colours import FALLBACK, accessible_brand_colour, contrast_with_white


@pytest.mark.parametrize(
    ("brand", "expected"),
    [
        ("#1a5fb4", "#1a5fb4"),  # the demo's blue: 6.4:1
        ("#000000", "#000000"),
        ("#ffff00", FALLBACK),  # yellow behind white text is unreadable
        ("#ff7f7f", FALLBACK),
        ("#767676", "#767676"),  # the classic lightest grey that passes, 4.54:1
        ("#777777", FALLBACK),  # and the one just past it, 4.48:1
        ("not-a-colour", FALLBACK),
        ("", FALLBACK),
    ],
)
def test_brand_colour_behind_white_text_meets_aa(brand: str, expected: str) -> None:
    assert accessible_brand_colour(brand) == expected


def test_contrast_matches_wcag_reference_values() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)
