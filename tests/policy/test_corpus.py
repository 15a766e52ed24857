"""The policy pack against its corpus of input documents (built from real synth output) and its own Rego tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.policy import opa as policy_opa
from engine.settings import default_project_root

ROOT = default_project_root()
POLICIES = ROOT / "policies"
OPA = ROOT / ".tools" / "bin" / "opa"
CORPUS = sorted((ROOT / "tests" / "policy" / "corpus").glob("*.json"))
RULES_DOC = ROOT / "docs" / "policy-rules.md"

DECISIONS = ("deny", "require", "warn")
SEVERITIES = {"critical", "high", "medium", "low"}
ROLES = {"approver", "admin", "security"}
ID = re.compile(r"\bDM-[A-Z0-9]+-\d{3}\b")


def _opa() -> Path:
    if not OPA.is_file():
        pytest.fail(f"OPA is not built at {OPA.relative_to(ROOT)}: run `make bootstrap`")
    return OPA


def _case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    return case


def _documented_ids() -> set[str]:
    return set(ID.findall(RULES_DOC.read_text()))


def test_corpus_has_passing_and_failing_cases() -> None:
    cases = [_case(path) for path in CORPUS]
    assert len(cases) >= 12
    assert any(not any(case["expected"][d] for d in ("deny", "require")) for case in cases)
    assert any(case["expected"]["deny"] for case in cases)
    assert any(case["expected"]["require"] for case in cases)


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_case_gets_its_expected_decision(path: Path) -> None:
    case = _case(path)
    decision = policy_opa.evaluate(case["input"], POLICIES, _opa())
    assert set(decision) == set(DECISIONS)
    got = {name: sorted(result["id"] for result in decision[name]) for name in DECISIONS}
    assert got == case["expected"], case["description"]


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_results_follow_the_output_contract(path: Path) -> None:
    decision = policy_opa.evaluate(_case(path)["input"], POLICIES, _opa())
    documented = _documented_ids()
    for name in DECISIONS:
        results = decision[name]
        keys = [(r["id"], r["urn"] or "", r["message"]) for r in results]
        assert keys == sorted(keys), f"{name} is not sorted by id then urn"
        for result in results:
            assert isinstance(result["id"], str) and ID.fullmatch(result["id"])
            assert result["severity"] in SEVERITIES
            assert result["urn"] is None or isinstance(result["urn"], str)
            assert isinstance(result["message"], str) and result["message"]
            assert isinstance(result["remediation"], str) and result["remediation"]
            assert result["id"] in documented, f"{result['id']} is not in docs/policy-rules.md"
            expected_keys = {"id", "severity", "urn", "message", "remediation"}
            if name == "require":
                assert isinstance(result["approvals"], int) and result["approvals"] >= 1
                assert result["role"] in ROLES
                expected_keys |= {"approvals", "role"}
            assert set(result) == expected_keys


def test_every_rule_id_in_the_pack_is_documented() -> None:
    rules = [p for p in POLICIES.glob("*.rego") if not p.name.endswith("_test.rego")]
    in_pack = {rule_id for path in rules for rule_id in ID.findall(path.read_text())}
    assert in_pack, "no rule ids found in policies/"
    assert in_pack <= _documented_ids()


def test_rego_unit_tests_pass() -> None:
    done = policy_opa.test_pack(POLICIES, _opa())
    assert done.returncode == 0, done.stdout + done.stderr
