from __future__ import annotations

import json

import pytest

from engine.access import Principal, RateLimiter, load_tokens, token_digest
from engine.errors import SettingsError


def test_tokens_are_kept_as_digests_and_roles_checked() -> None:
    table = load_tokens(
        json.dumps(
            {
                "plain-token-value": {"principal": "otto", "roles": ["operator"]},
                f"sha256:{token_digest('other-token')}": {"principal": "vera", "roles": ["viewer"]},
            }
        ),
        "test",
    )
    assert "plain-token-value" not in table
    assert table[token_digest("plain-token-value")].name == "otto"
    assert table[token_digest("other-token")].roles == ["viewer"]
    with pytest.raises(SettingsError, match="unknown role 'root'"):
        load_tokens(json.dumps({"t": {"principal": "x", "roles": ["root"]}}), "test")
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_tokens("{nope", "test")


def test_roles_include_the_lower_ones() -> None:
    admin = Principal(name="ada", roles=["admin"])
    viewer = Principal(name="vera", roles=["viewer"])
    assert admin.has("viewer") and admin.has("operator") and admin.has("admin")
    assert viewer.has("viewer") and not viewer.has("operator")


def test_rate_limiter_is_per_principal() -> None:
    limiter = RateLimiter(per_minute=2)
    assert limiter.allow("a") and limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")
