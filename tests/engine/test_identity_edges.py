"""Principal names at their edges: exact refusals, the raw length limit, script sets and letters without a script."""

from __future__ import annotations

import pytest

from engine.errors import InvalidIdentity
from engine.identity import MAX_LENGTH, normalize_principal


def refusal(raw: str) -> dict[str, object]:
    with pytest.raises(InvalidIdentity) as caught:
        normalize_principal(raw)
    return caught.value.to_dict()


def test_an_empty_name_is_refused_as_empty() -> None:
    assert refusal("  ") == {"error": "invalid_identity", "message": "invalid principal '  ': empty", "reason": "empty"}


def test_whitespace_inside_a_name_is_refused() -> None:
    assert refusal("al ice")["reason"] == "contains whitespace"


def test_a_symbol_is_refused_naming_what_is_allowed() -> None:
    assert refusal("al/ice")["reason"] == "contains '/' (U+002F); allowed are letters, digits and +-.:@_"


def test_mixed_scripts_are_named_in_order() -> None:
    assert refusal("\u0430\u03b1")["reason"] == "mixes scripts (CYRILLIC, GREEK)"


def test_cjk_with_hangul_is_one_allowed_script_set() -> None:
    assert normalize_principal("\u5c71\ud55c") == "\u5c71\ud55c"


def test_a_letter_without_a_script_is_refused() -> None:
    assert refusal("\U00017000")["reason"].startswith("contains '\U00017000' (U+17000)")  # type: ignore[union-attr]


def test_padding_up_to_the_raw_limit_is_trimmed() -> None:
    assert normalize_principal("alice".ljust(4 * MAX_LENGTH)) == "alice"


def test_a_long_name_is_shown_cut_short() -> None:
    shown = repr("a" * 60) + "..."
    assert refusal("a" * (MAX_LENGTH + 1))["message"] == f"invalid principal {shown}: longer than 128 characters"


def test_a_name_of_the_shown_length_is_shown_whole() -> None:
    assert refusal("a" * 59 + "/")["message"] == (
        f"invalid principal {'a' * 59 + '/'!r}: contains '/' (U+002F); allowed are letters, digits and +-.:@_"
    )


def test_a_name_over_the_raw_limit_is_refused_unread() -> None:
    assert refusal("a" * (4 * MAX_LENGTH + 1))["reason"] == "longer than 128 characters"
