"""Bearer-token tables and the per-principal rate limit: exact start-up errors and the refill arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import access
from engine.access import RateLimiter, load_tokens, load_tokens_file
from engine.errors import SettingsError


def settings_error(text: str, source: str = "tokens.json") -> str:
    with pytest.raises(SettingsError) as caught:
        load_tokens(text, source)
    return caught.value.message


def test_a_table_that_is_not_an_object_is_refused() -> None:
    assert settings_error("[]") == "tokens.json: must be a JSON object of token -> principal"


def test_an_entry_that_is_not_an_object_is_refused() -> None:
    assert settings_error('{"t0ken": "alice"}') == "tokens.json: token for ?: must be an object"


def test_an_entry_without_a_principal_is_refused() -> None:
    assert settings_error('{"t0ken": {"roles": ["viewer"]}}') == (
        "tokens.json: token for ?: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._@+:-]{0,127}$'"
    )


def test_an_entry_without_roles_is_refused_naming_its_principal() -> None:
    assert settings_error('{"t0ken": {"principal": "alice"}}') == (
        "tokens.json: token for alice: List should have at least 1 item after validation, not 0"
    )


def test_a_token_file_is_named_by_its_file_name_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([]))
    with pytest.raises(SettingsError, match=r"^tokens\.json: must be a JSON object"):
        load_tokens_file(path)


def test_a_token_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"t0ken": {"principal": "alice", "roles": ["viewer"]}}))
    assert [p.name for p in load_tokens_file(path).values()] == ["alice"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(access.time, "monotonic", clock)
    return clock


def test_a_bucket_holds_exactly_its_calls_per_minute(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=1)
    assert (limiter.allow("alice"), limiter.allow("alice")) == (True, False)


def test_a_spent_bucket_refills_one_call_per_sixtieth_of_a_minute(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60)
    assert all(limiter.allow("alice") for _ in range(60))
    clock.now += 1.0
    assert (limiter.allow("alice"), limiter.allow("alice")) == (True, False)


def test_a_refused_call_does_not_break_the_bucket(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=1)
    limiter.allow("alice")
    limiter.allow("alice")
    clock.now += 60.0
    assert limiter.allow("alice")


def test_an_unreadable_token_file_is_named_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_tokens_file(tmp_path / "tokens.json")
    assert caught.value.message == "cannot read the token file tokens.json: No such file or directory"
