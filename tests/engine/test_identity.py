from __future__ import annotations

import pytest

from engine.errors import InvalidIdentity, InvalidInput
from engine.identity import MAX_LENGTH, normalize_principal, same_principal

FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


@pytest.mark.parametrize("raw", [" alice", "alice\t", "Alice", "ALICE ", "\u00a0alice"])
def test_padding_and_case_do_not_make_another_principal(raw: str) -> None:
    assert normalize_principal(raw) == "alice"


def test_fullwidth_letters_normalise_to_ascii() -> None:
    assert normalize_principal(FULLWIDTH_ALICE) == "alice"


def test_normal_form_is_stable_under_renormalisation() -> None:
    for raw in ["Straße", FULLWIDTH_ALICE + "@Example.COM", "山田たろう", "ΩΜΈΓΑ"]:
        once = normalize_principal(raw)
        assert normalize_principal(once) == once


def test_cyrillic_lookalike_mixed_with_latin_is_rejected() -> None:
    with pytest.raises(InvalidIdentity, match="mixes scripts"):
        normalize_principal("\u0430lice")  # Cyrillic a (U+0430), then Latin


def test_rejection_message_escapes_lookalikes() -> None:
    with pytest.raises(InvalidIdentity) as caught:
        normalize_principal("\u0430lice")
    assert "\\u0430lice" in caught.value.message


@pytest.mark.parametrize("raw", ["al\u200bice", "alice\u200d", "\ufeffalice", "al\u202eice"])
def test_invisible_characters_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="invisible"):
        normalize_principal(raw)


@pytest.mark.parametrize("raw", ["al\x00ice", "al\tice", "al\x1bice"])
def test_control_characters_inside_a_name_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="control"):
        normalize_principal(raw)


def test_whitespace_inside_a_name_is_rejected() -> None:
    with pytest.raises(InvalidIdentity, match="whitespace"):
        normalize_principal("alice smith")


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty_names_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="empty"):
        normalize_principal(raw)


def test_huge_name_is_rejected_with_a_short_message() -> None:
    with pytest.raises(InvalidIdentity) as caught:
        normalize_principal("a" * 10_000)
    assert len(caught.value.message) < 200


def test_name_one_over_the_limit_is_rejected() -> None:
    normalize_principal("a" * MAX_LENGTH)
    with pytest.raises(InvalidIdentity, match="longer than"):
        normalize_principal("a" * (MAX_LENGTH + 1))


@pytest.mark.parametrize("raw", ["alice*", "al,ice", "!alice", 'ali"ce', "alice/x", "bob\u0661"])
def test_characters_outside_letters_digits_and_separators_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="allowed are"):
        normalize_principal(raw)


@pytest.mark.parametrize("raw", ["alice@example.com", "ci:github-actions", "bob.smith+ops_2", "山田たろう", "δημήτρης"])
def test_usual_principal_shapes_are_accepted(raw: str) -> None:
    assert normalize_principal(raw) == raw.casefold()


def test_invalid_identity_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        normalize_principal("")


def test_same_principal_matches_differently_written_names() -> None:
    assert same_principal("Alice ", FULLWIDTH_ALICE)


def test_same_principal_tells_different_people_apart() -> None:
    assert not same_principal("alice", "alice2")


def test_same_principal_never_matches_an_unusable_name() -> None:
    assert not same_principal("\u0430lice", "\u0430lice")
