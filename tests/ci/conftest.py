"""Running the workflows' steps as GitHub would: the step's own `run:` text, with the environment its workflow, job
and step set (expressions resolved from a scenario), in a workspace of our own, with the runner's files faked.

A scenario names the value of every expression a step uses; an expression it does not know fails the test, so a
workflow cannot change what a step sees without its test noticing. The workspace links the checkout's scripts, venv
and tools, so a step writes only into the test's temporary folder; DATAMCP_STATE_DIR points there too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
REPOSITORY = "acme/infra"


def load_workflow(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc  # type: ignore[no-any-return]


def find_step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    steps = [s for s in job["steps"] if s.get("id") == step_id]
    assert len(steps) == 1, f"no step with id {step_id!r}"
    return steps[0]


def resolve(value: object, scenario: dict[str, str]) -> str:
    """A workflow value with its `${{ }}` expressions replaced by the scenario's values."""

    def one(match: re.Match[str]) -> str:
        assert match.group(1) in scenario, f"the scenario does not say what {match.group(1)!r} is"
        return scenario[match.group(1)]

    return EXPRESSION.sub(one, str(value))


@dataclass
class Runner:
    """A fake runner in a temporary folder: its workspace, output files, temp folder and environment."""

    base: Path
    extra_path: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workspace = self.base / "workspace"
        self.workspace.mkdir(parents=True)
        for name in ("scripts", ".venv", ".tools"):
            (self.workspace / name).symlink_to(ROOT / name)
        self.temp = self.base / "runner-temp"
        self.temp.mkdir()
        self.output = self.base / "github-output"
        self.summary = self.base / "step-summary"
        self.output.touch()
        self.summary.touch()

    @staticmethod
    def workflow(name: str) -> dict[str, Any]:
        return load_workflow(name)

    @staticmethod
    def step(workflow: str, job: str, step_id: str) -> dict[str, Any]:
        return find_step(load_workflow(workflow)["jobs"][job], step_id)

    def env(self, workflow: str, job: str, step: dict[str, Any], scenario: dict[str, str]) -> dict[str, str]:
        """What the step sees: the runner's variables, then the workflow's, the job's and the step's env."""
        doc = load_workflow(workflow)
        env = {
            "PATH": os.pathsep.join([*map(str, self.extra_path), os.environ["PATH"]]),
            "HOME": os.environ.get("HOME", str(self.base)),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_RUN_ID": "555",
            "GITHUB_SERVER_URL": "https://github.com",
            "RUNNER_TEMP": str(self.temp),
            # no cloud credentials on this runner, and no waiting for an instance metadata service
            "AWS_CONFIG_FILE": str(self.base / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.base / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            # never the checkout's state
            "DATAMCP_STATE_DIR": str(self.base / "state"),
        }
        for scope in (doc.get("env") or {}, doc["jobs"][job].get("env") or {}, step.get("env") or {}):
            env.update({name: resolve(value, scenario) for name, value in scope.items()})
        return env

    def run(self, step: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """The step's `run:` text, the way GitHub runs a bash step."""
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


FAKE_GH = '''#!{python}
"""A stand-in for the GitHub CLI (the GitHub API is not reachable from the tests): it records its arguments and
answers from the state file the test wrote."""
import json, os, re, shutil, sys

args = sys.argv[1:]
state = json.load(open(os.environ["FAKE_GH_STATE"]))
entry = {{"argv": args}}
if "--input" in args:
    entry["input"] = json.load(open(args[args.index("--input") + 1]))
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
path = next((a for a in args[1:] if a.startswith("repos/")), "")
if args[:2] == ["run", "download"]:
    shutil.copytree(state["artifacts"][args[args.index("--name") + 1]], args[args.index("--dir") + 1])
elif path.endswith("/artifacts"):
    print("\\n".join(state["artifacts"]))
elif path.endswith("/approvals"):
    print(state.get("approved_by", ""))
elif match := re.fullmatch(r"repos/[^/]+/[^/]+/pulls/(\\w+)", path):
    if match.group(1) not in state["pulls"]:
        sys.exit("gh: Not Found (HTTP 404)")
    print(json.dumps({{"number": int(match.group(1)), "head": {{"sha": state["pulls"][match.group(1)]}}}}))
elif path.endswith("/comments") and "--method" not in args:
    stack = re.search(r"datamcp-preview:([a-z0-9-]+)", args[args.index("--jq") + 1]).group(1)
    pr = path.split("/")[-2]
    print(state.get("bot_comments", {{}}).get(pr, {{}}).get(stack, ""))
elif "--method" in args:
    print("{{}}")
else:
    sys.exit("fake gh: unexpected call " + " ".join(args))
'''


@dataclass
class FakeGh:
    """The fake `gh` on PATH: what the API holds (`state`) and every call made (`calls()`)."""

    folder: Path
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bin = self.folder / "bin"
        self.bin.mkdir(parents=True)
        gh = self.bin / "gh"
        gh.write_text(FAKE_GH.format(python=sys.executable))
        gh.chmod(0o755)
        self.log = self.folder / "gh-calls.jsonl"
        self.log.touch()

    def env(self) -> dict[str, str]:
        state_file = self.folder / "gh-state.json"
        state_file.write_text(json.dumps(self.state))
        return {"FAKE_GH_STATE": str(state_file), "FAKE_GH_LOG": str(self.log)}

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def writes(self) -> list[dict[str, Any]]:
        return [c for c in self.calls() if "--method" in c["argv"]]


@pytest.fixture
def fake_gh(tmp_path: Path, runner: Runner) -> FakeGh:
    gh = FakeGh(tmp_path / "gh")
    runner.extra_path.append(gh.bin)
    return gh
