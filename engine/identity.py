"""Identity hygiene: one normal form for principal names, so look-alike or padded names never match another person."""

from __future__ import annotations

import unicodedata

from engine.errors import InvalidIdentity

MAX_LENGTH = 128
# Decomposed input and surrounding whitespace may shrink under normalisation; anything longer is refused unread.
_RAW_LIMIT = 4 * MAX_LENGTH
_SHOWN = 60
_NEUTRAL = frozenset("0123456789._@+-:")
# Scripts that legitimately mix in one name (Unicode TS #39 "highly restrictive" sets).
_SCRIPT_SETS = (
    frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"CJK", "HANGUL"}),
    frozenset({"CJK", "BOPOMOFO"}),
)


def normalize_principal(raw: str) -> str:
    """The comparable form of a principal (NFKC, trimmed, case-folded), or InvalidIdentity saying what is wrong."""
    if len(raw) > _RAW_LIMIT:
        raise _invalid(raw, f"longer than {MAX_LENGTH} characters")
    name = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).strip().casefold())
    if not name:
        raise _invalid(raw, "empty")
    if len(name) > MAX_LENGTH:
        raise _invalid(raw, f"longer than {MAX_LENGTH} characters")
    scripts: set[str] = set()
    for ch in name:
        problem = _character_problem(ch)
        if problem:
            raise _invalid(raw, problem)
        if ch not in _NEUTRAL:
            scripts.add(_script(ch))
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
        raise _invalid(raw, f"mixes scripts ({', '.join(sorted(scripts))})")
    return name


def same_principal(a: str, b: str) -> bool:
    """Whether two names denote the same principal; an unusable name matches nothing."""
    try:
        return normalize_principal(a) == normalize_principal(b)
    except InvalidIdentity:
        return False


def _character_problem(ch: str) -> str | None:
    """Why `ch` may not appear in a normalised principal, or None when it may."""
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"contains a control character (U+{ord(ch):04X})"
    if category == "Cf":
        return f"contains an invisible character (U+{ord(ch):04X})"
    if ch.isspace():
        return "contains whitespace"
    if ch in _NEUTRAL or (category.startswith("L") and _script(ch)):
        return None
    return f"contains {ch!r} (U+{ord(ch):04X}); allowed are letters, digits and {''.join(sorted('._@+-:'))}"


def _script(letter: str) -> str:
    """The script of a letter, from its Unicode name ('LATIN SMALL LETTER A' -> 'LATIN'); '' when it has none."""
    try:
        return unicodedata.name(letter).split(" ", 1)[0]
    except ValueError:
        return ""


def _invalid(raw: str, reason: str) -> InvalidIdentity:
    # ascii() escapes look-alikes and invisibles ('\u0430lice'), so the reader sees what was actually sent.
    shown = ascii(raw[:_SHOWN]) + ("..." if len(raw) > _SHOWN else "")
    return InvalidIdentity(f"invalid principal {shown}: {reason}", reason=reason)
