"""The mutation score of the safety core, per module, from mutmut's results in `mutants/` (run by scripts/mutate.sh).

A surviving mutant is either listed in `scripts/mutation/equivalent.txt` with the reason it cannot be told apart
from the original, or it is a gap in the tests: the exit status is 1 while any such gap (or an unchecked mutant of a
full run) remains.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT = Path(__file__).with_name("equivalent.txt")

# mutmut's exit codes per mutant (mutmut/stats.py): the tests failed, passed, had nothing to run, or ran out of time.
KILLED = {1, 3}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {36, 24, -24, 152, 255}


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in KILLED:
        return "killed"
    if code in TIMEOUT:
        return "timeout"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return "suspicious"


def equivalents(path: Path = EQUIVALENT) -> dict[str, str]:
    """`mutant-name  reason` lines; lines starting with `#` are comments."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, reason = line.strip().partition(" ")
        if name and not name.startswith("#"):
            found[name] = reason.strip()
    return found


def results(mutants: Path) -> dict[str, dict[str, str]]:
    """{module file: {mutant name: status}} from mutmut's `.meta` files."""
    by_module = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        by_module[str(meta.relative_to(mutants)).removesuffix(".meta")] = {k: status(v) for k, v in codes.items()}
    return by_module


def row(name: str, counts: Counter[str]) -> str:
    """One line of the table; the score is killed over checked mutants (equivalent ones count against it)."""
    checked = counts["total"] - counts["unchecked"]
    score = f"{100 * counts['killed'] / checked:.1f}%" if checked else "-"
    return f"{name:40} {counts['total']:7} {counts['killed']:6} {counts['equivalent']:6} {counts['gaps']:5} {score:>7}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    parser.add_argument("--partial", action="store_true", help="a run of selected mutants: unchecked ones are fine")
    args = parser.parse_args(argv)
    by_module = results(args.mutants)
    if not by_module:
        print(f"no mutmut results in {args.mutants}: run `make mutate` first", file=sys.stderr)
        return 2
    known = equivalents()
    gaps: list[str] = []
    total: Counter[str] = Counter()
    print(f"{'module':40} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'gaps':>5} {'score':>7}")
    for module, mutants in by_module.items():
        counts: Counter[str] = Counter()
        for name, outcome in sorted(mutants.items()):
            if outcome in ("killed", "timeout"):
                counts["killed"] += 1
            elif outcome in ("survived", "no tests") and name in known:
                counts["equivalent"] += 1
            elif outcome == "not checked" and args.partial:
                counts["unchecked"] += 1
            else:
                counts["gaps"] += 1
                gaps.append(f"{name}: {outcome}")
        counts["total"] = len(mutants)
        total.update(counts)
        print(row(module, counts))
    print(row("safety core", total))
    stale = sorted(set(known) - {name for mutants in by_module.values() for name in mutants})
    for name in stale:
        print(f"note: {name} is listed as equivalent but is no mutant of this source (edited since?)")
    if gaps:
        print(f"\n{len(gaps)} mutant(s) neither killed nor listed in {EQUIVALENT.relative_to(ROOT)}:")
        print("\n".join(f"  {gap}" for gap in gaps))
        print("`.venv/bin/mutmut show NAME` shows one; kill it with a test, or list it with why it is equivalent.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
