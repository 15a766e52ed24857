"""The masker's rules one at a time: which learned values it masks, in which order, and what it keeps of a label."""

from __future__ import annotations

import pytest

from engine.masking import SECRET, Masker, bounded


def test_a_value_that_contains_another_is_masked_whole() -> None:
    assert Masker(["abcd", "0abcd0"]).text("key 0abcd0") == f"key {SECRET}"


def test_a_value_added_later_that_contains_another_is_masked_whole() -> None:
    masker = Masker(["abcd"])
    masker.add("0abcd0")
    assert masker.text("key 0abcd0") == f"key {SECRET}"


def test_a_string_masked_before_a_secret_was_learned_is_masked_again_after() -> None:
    masker = Masker()
    assert masker.text("endpoint t0ps3cret-value") == "endpoint t0ps3cret-value"  # remembered as clean...
    masker.add("t0ps3cret-value")
    assert masker.text("endpoint t0ps3cret-value") == f"endpoint {SECRET}"  # ...until a secret is learned


def test_remembered_answers_are_bounded_and_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.masking.CACHE_LIMIT", 3)
    masker = Masker(["hunter22"])
    texts = [f"line {i} hunter22" for i in range(10)]
    assert [masker.text(t) for t in texts + texts] == [f"line {i} {SECRET}" for i in range(10)] * 2
    assert len(masker._state[1]) <= 3


def test_four_characters_are_enough_to_be_masked() -> None:
    assert Masker(["s3cr"]).text("the s3cr value") == f"the {SECRET} value"


def test_a_four_character_value_added_later_is_masked() -> None:
    masker = Masker()
    masker.add("s3cr")
    assert masker.text("the s3cr value") == f"the {SECRET} value"


def test_shorter_values_would_mask_noise_and_are_ignored() -> None:
    masker = Masker(["abc"])
    masker.add("xyz")
    assert masker.text("abc xyz") == "abc xyz"


def test_values_that_are_not_text_are_ignored() -> None:
    masker = Masker([None, 12345])  # type: ignore[list-item]
    masker.add(None, 67890)  # type: ignore[arg-type]
    assert masker.secrets == ()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("password=hunter2hunter2", f"password={SECRET}"),
        ('"secret": "s3cr3tvalue"', f'"secret": "{SECRET}"'),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", f"Authorization: Bearer {SECRET}"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", f"aws_secret_access_key = {SECRET}"),
        ('{"private_key": "-----BEGIN', f'{{"private_key": "{SECRET}'),
        ("id AKIAIOSFODNN7EXAMPLE", f"id {SECRET}"),
    ],
)
def test_a_credential_keeps_its_label_and_loses_its_value(text: str, masked: str) -> None:
    assert Masker().text(text) == masked


def test_a_text_within_the_limit_is_kept_whole() -> None:
    assert bounded("x" * 100, 100) == ("x" * 100, False)


def test_a_text_over_the_limit_is_cut_with_a_note_of_what_was_left_out() -> None:
    cut, truncated = bounded("x" * 101, 100)
    assert (cut, truncated) == ("x" * 36 + "\n... [65 more characters kept in the attachment]", True)


def test_a_value_pulumi_marks_secret_is_shown_whole_as_secret() -> None:
    wrapped = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"hunter2"'}
    other = {"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "hash": "abc"}  # an asset
    assert Masker().obj({"password": wrapped, "tags": [wrapped], "asset": other}) == {
        "password": "[secret]",
        "tags": ["[secret]"],
        "asset": other,
    }
