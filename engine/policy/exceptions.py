"""Rules a stack switches off: `datamcp:policy_exceptions` in its config, each with a recorded reason."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from engine.errors import StackConfigInvalid
from engine.stack_config import read_stack_config
from engine.vocabulary import PROJECT, echo

KEY = f"{PROJECT}:policy_exceptions"
RULE_ID = re.compile(r"^[A-Z][A-Z0-9-]{2,63}$")
MIN_REASON = 10


def policy_exceptions(project_root: Path, stack: str, known: set[str] | None = None) -> dict[str, str]:
    """Rule id -> reason. A missing or short reason, a malformed id, or (given `known`) an id the pack never names is
    a config error: nothing is waived silently."""
    config, _ = read_stack_config(project_root, stack)
    raw = config.get(KEY)
    if raw is None:
        return {}
    file = f"Pulumi.{stack}.yaml"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise StackConfigInvalid(f"{file}: {KEY} must map rule ids to reasons", file=file, key=KEY)
    for rule, reason in value.items():
        if not RULE_ID.match(str(rule)) or (known is not None and rule not in known):
            raise StackConfigInvalid(
                f"{file}: {KEY}: {echo(rule)} is not a rule of the policy pack", file=file, key=KEY
            )
        if not isinstance(reason, str) or len(visible(reason)) < MIN_REASON:
            raise StackConfigInvalid(
                f"{file}: {KEY}.{rule}: switching a rule off needs a reason of at least {MIN_REASON} characters",
                file=file,
                key=KEY,
            )
    return {str(k): str(v).strip() for k, v in value.items()}


def visible(text: str) -> str:
    """The characters a reader sees: NFKC form, without spaces and unprintable ones (controls, zero-width)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isprintable() and not c.isspace())
