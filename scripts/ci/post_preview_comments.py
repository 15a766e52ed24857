"""Post the sticky pull-request comments that a preview run rendered (preview-comment.yml, on workflow_run).

This runs in the base repository with a token that may write to pull requests, on the output of a run that may have
executed a fork's code. So it runs nothing from that run and trusts nothing in its artifacts: it downloads them with
`gh`, checks each one (the PR number is an integer naming a pull request whose head is the run's head commit, the
stack is a stack name matching the artifact, the comment fits GitHub's limit) and creates or updates one comment per
stack, marked `<!-- datamcp-preview:STACK -->`, among the comments github-actions[bot] wrote.
Usage: python3 scripts/ci/post_preview_comments.py (standard library only; no checkout of the pull request needed)
Environment: RUN_ID and HEAD_SHA (the preview run), GH_TOKEN, GITHUB_REPOSITORY and RUNNER_TEMP (set by the runner).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ARTIFACT_PREFIX = "preview-comment-"
STACK_RE = re.compile(r"[a-z][a-z0-9-]{0,62}")
PR_RE = re.compile(r"[1-9][0-9]{0,9}")
SHA_RE = re.compile(r"[0-9a-f]{40}")
REPO_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
COMMENT_LIMIT = 65_536  # characters GitHub accepts in one comment
BOT = "github-actions[bot]"


class Invalid(Exception):
    """An artifact this script refuses to post."""


@dataclass(frozen=True)
class Comment:
    stack: str
    pr: str
    body: str  # with the marker line first

    @property
    def marker(self) -> str:
        return marker(self.stack)


def marker(stack: str) -> str:
    return f"<!-- datamcp-preview:{stack} -->"


def gh(*args: str) -> str:
    return subprocess.run(["gh", *args], capture_output=True, text=True, check=True).stdout


def read_comment(folder: Path) -> Comment:
    """One downloaded artifact, checked: every value in it came from a run that may have executed untrusted code."""
    stack = folder.name.removeprefix(ARTIFACT_PREFIX)
    files = {name: folder / name for name in ("stack", "pr", "comment.md")}
    for name, path in files.items():
        if not path.is_file() or path.is_symlink():
            raise Invalid(f"{folder.name}: no {name} file")
        if path.stat().st_size > 4 * COMMENT_LIMIT:
            raise Invalid(f"{folder.name}: {name} is larger than a comment can be")
    if files["stack"].read_text().strip() != stack:
        raise Invalid(f"{folder.name}: the stack file does not name {stack}")
    pr = files["pr"].read_text().strip()
    if not PR_RE.fullmatch(pr):
        raise Invalid(f"{folder.name}: the PR number {pr[:20]!r} is not a positive integer")
    try:
        text = files["comment.md"].read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(f"{folder.name}: the comment is not UTF-8") from None
    body = f"{marker(stack)}\n{text}"
    if len(body) > COMMENT_LIMIT:
        raise Invalid(f"{folder.name}: the comment has {len(body)} characters, more than GitHub's {COMMENT_LIMIT}")
    return Comment(stack, pr, body)


def head_of(repo: str, pr: str) -> str:
    """The pull request's head commit, or "" when there is no such pull request."""
    try:
        return str(json.loads(gh("api", f"repos/{repo}/pulls/{pr}"))["head"]["sha"])
    except subprocess.CalledProcessError:
        return ""


def existing(repo: str, comment: Comment) -> str | None:
    """The id of our earlier comment for this stack on this pull request, if any."""
    query = f'.[] | select(.user.login == "{BOT}" and (.body | startswith("{comment.marker}"))) | .id'
    ids = gh("api", "--paginate", f"repos/{repo}/issues/{comment.pr}/comments", "--jq", query).split()
    return ids[0] if ids else None


def post(repo: str, comment: Comment) -> str:
    """Update our comment for the stack, or create it; returns what was done."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as payload:
        json.dump({"body": comment.body}, payload)
    try:
        comment_id = existing(repo, comment)
        if comment_id is not None and comment_id.isdigit():
            gh("api", "--method", "PATCH", f"repos/{repo}/issues/comments/{comment_id}", "--input", payload.name)
            return f"updated comment {comment_id}"
        gh("api", "--method", "POST", f"repos/{repo}/issues/{comment.pr}/comments", "--input", payload.name)
        return "created a comment"
    finally:
        os.unlink(payload.name)


def post_all(folders: list[Path], repo: str, head_sha: str) -> int:
    """Post each valid artifact; an invalid one is reported and fails the job, the others are still posted."""
    failures = 0
    for folder in folders:
        try:
            comment = read_comment(folder)
        except Invalid as refused:
            print(f"::error::not posted: {refused}")
            failures += 1
            continue
        head = head_of(repo, comment.pr)
        if head != head_sha:  # a newer push (its own run posts), or a PR number that is not this run's
            at = head[:12] or "no such pull request"
            print(f"::warning::not posted: PR #{comment.pr} is at {at}, the run previewed {head_sha[:12]}")
            continue
        print(f"{comment.stack}: {post(repo, comment)} on PR #{comment.pr}")
    return 1 if failures else 0


def main(env: Mapping[str, str]) -> int:
    repo, run_id, head_sha = env.get("GITHUB_REPOSITORY", ""), env.get("RUN_ID", ""), env.get("HEAD_SHA", "")
    if not REPO_RE.fullmatch(repo) or not run_id.isdigit() or not SHA_RE.fullmatch(head_sha):
        print("post_preview_comments: GITHUB_REPOSITORY, RUN_ID and HEAD_SHA must be set", file=sys.stderr)
        return 3
    into = Path(env.get("RUNNER_TEMP") or tempfile.mkdtemp()) / "preview-comments"
    listing = gh("api", "--paginate", f"repos/{repo}/actions/runs/{run_id}/artifacts", "--jq", ".artifacts[].name")
    names = [n for n in listing.splitlines() if n.startswith(ARTIFACT_PREFIX)]
    wrong = [n for n in names if not STACK_RE.fullmatch(n.removeprefix(ARTIFACT_PREFIX))]
    for name in wrong:
        print(f"::error::not posted: {name[:80]!r} is not a comment artifact of a stack")
    folders = [into / n for n in names if n not in wrong]
    for folder in folders:  # one at a time: gh extracts a single named artifact into its --dir
        gh("run", "download", run_id, "--repo", repo, "--name", folder.name, "--dir", str(folder))
    if not names:
        print("no preview comments in this run")
    return max(post_all(folders, repo, head_sha), 1 if wrong else 0)


if __name__ == "__main__":
    sys.exit(main(os.environ))
