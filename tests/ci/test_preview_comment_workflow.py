"""preview-comment.yml posts what a preview run rendered, and checks it first: the run may have executed a fork's
code, so its artifacts are untrusted data. `gh` is a fake that records its calls (the GitHub API is not reachable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HEAD = "a" * 40
OTHER = "b" * 40
LIMIT = 65_536


def artifact(base: Path, stack: str, pr: str = "42", comment: str = "### DataMCP preview\n", name: str = "") -> Path:
    folder = base / "artifacts" / (name or f"preview-comment-{stack}")
    folder.mkdir(parents=True)
    (folder / "stack").write_text(stack + "\n")
    (folder / "pr").write_text(pr + "\n")
    (folder / "comment.md").write_text(comment)
    return folder


def post(runner: Any, fake_gh: Any, folders: list[Path], **state: Any) -> Any:
    """Run the workflow's post step on a run whose artifacts are `folders` (listed under their folder names)."""
    fake_gh.state = {"artifacts": {f.name: str(f) for f in folders}, "pulls": {"42": HEAD}, **state}
    step = runner.step("preview-comment.yml", "comment", "post")
    scenario = {
        "github.token": "ghs_fakeTokenForTheTests0123456789",
        "github.event.workflow_run.id": "9001",
        "github.event.workflow_run.head_sha": HEAD,
    }
    return runner.run(step, {**runner.env("preview-comment.yml", "comment", step, scenario), **fake_gh.env()})


def test_creates_one_comment_per_stack_marked_with_the_stack(runner: Any, fake_gh: Any, tmp_path: Path) -> None:
    folders = [artifact(tmp_path, "aws-dev", comment="aws body\n"), artifact(tmp_path, "gcp-dev", comment="gcp\n")]
    done = post(runner, fake_gh, folders)
    assert done.returncode == 0, done.stdout + done.stderr
    writes = [(c["argv"][2], c["argv"][3], c["input"]["body"]) for c in fake_gh.writes()]
    assert writes == [
        ("POST", "repos/acme/infra/issues/42/comments", "<!-- datamcp-preview:aws-dev -->\naws body\n"),
        ("POST", "repos/acme/infra/issues/42/comments", "<!-- datamcp-preview:gcp-dev -->\ngcp\n"),
    ]
    downloads = [c["argv"] for c in fake_gh.calls() if c["argv"][:2] == ["run", "download"]]
    assert all(argv[2] == "9001" and "--repo" in argv for argv in downloads) and len(downloads) == 2


def test_updates_the_bots_earlier_comment_of_the_stack(runner: Any, fake_gh: Any, tmp_path: Path) -> None:
    done = post(runner, fake_gh, [artifact(tmp_path, "aws-dev")], bot_comments={"42": {"aws-dev": "777"}})
    assert done.returncode == 0, done.stdout + done.stderr
    [write] = fake_gh.writes()
    assert write["argv"][2:4] == ["PATCH", "repos/acme/infra/issues/comments/777"]
    lookup = next(c["argv"] for c in fake_gh.calls() if c["argv"][-2:-1] == ["--jq"] and "comments" in c["argv"][2])
    assert "github-actions[bot]" in lookup[-1] and "<!-- datamcp-preview:aws-dev -->" in lookup[-1]


@pytest.mark.parametrize("pr", ["42; echo owned", "0x2a", "-42", "../../42", "4 2", "0", "", "1" * 11])
def test_refuses_a_pr_number_that_is_not_a_positive_integer(runner: Any, fake_gh: Any, tmp_path: Path, pr: str) -> None:
    done = post(runner, fake_gh, [artifact(tmp_path, "aws-dev", pr=pr)])
    assert done.returncode == 1 and "is not a positive integer" in done.stdout
    assert fake_gh.writes() == []


def test_refuses_a_comment_larger_than_github_allows_and_posts_the_others(
    runner: Any, fake_gh: Any, tmp_path: Path
) -> None:
    fits = "x" * (LIMIT - len("<!-- datamcp-preview:gcp-dev -->\n"))
    folders = [artifact(tmp_path, "aws-dev", comment=fits + "y"), artifact(tmp_path, "gcp-dev", comment=fits)]
    done = post(runner, fake_gh, folders)
    assert done.returncode == 1 and "more than GitHub's 65536" in done.stdout
    [write] = fake_gh.writes()
    assert (
        write["input"]["body"].startswith("<!-- datamcp-preview:gcp-dev -->") and len(write["input"]["body"]) == LIMIT
    )


def test_posts_nothing_to_a_pull_request_whose_head_is_not_the_previewed_commit(
    runner: Any, fake_gh: Any, tmp_path: Path
) -> None:
    folders = [artifact(tmp_path, "aws-dev", pr="7"), artifact(tmp_path, "gcp-dev", pr="8")]
    done = post(runner, fake_gh, folders, pulls={"42": HEAD, "7": OTHER})
    assert done.returncode == 0 and done.stdout.count("::warning::not posted") == 2
    assert fake_gh.writes() == []


@pytest.mark.parametrize("name", ["preview-comment-../../etc", "preview-comment-AWS", "preview-comment-a b"])
def test_refuses_an_artifact_that_is_not_a_stacks_comment(runner: Any, fake_gh: Any, tmp_path: Path, name: str) -> None:
    folder = artifact(tmp_path, "aws-dev", name="odd")
    done = post(runner, fake_gh, [], artifacts={name: str(folder)})  # the run lists an artifact of that name
    assert done.returncode == 1 and "is not a comment artifact of a stack" in done.stdout
    assert [c for c in fake_gh.calls() if c["argv"][:2] == ["run", "download"]] == [] and fake_gh.writes() == []


def test_a_run_without_comments_posts_nothing(runner: Any, fake_gh: Any) -> None:
    done = post(runner, fake_gh, [])
    assert done.returncode == 0 and "no preview comments" in done.stdout and fake_gh.writes() == []
