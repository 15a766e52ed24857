from __future__ import annotations

import pytest

from engine.trust import canonical_json


def test_keys_are_sorted_without_spaces_at_any_depth() -> None:
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": None}}) == b'{"a":{"c":null,"d":[1,2]},"b":1}'


def test_non_ascii_text_is_utf8_not_escaped() -> None:
    assert canonical_json({"user": "jos\u00e9"}) == '{"user":"jos\u00e9"}'.encode()


def test_the_same_payload_in_any_key_order_has_the_same_bytes() -> None:
    assert canonical_json({"x": 1, "y": 2}) == canonical_json({"y": 2, "x": 1})


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"ttl": float("nan")})
