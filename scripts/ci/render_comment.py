"""Render one stack's pull-request comment for the preview workflow, as the artifact preview-comment.yml posts.

`preview` runs `datamcp preview STACK --format markdown` (cloud credentials); `synth` runs the offline `datamcp synth`
(a forked pull request: no credentials). A command that fails still renders a comment carrying its masked error, and
the script then exits with the command's code: the job fails, the comment is posted all the same.

Writes $RUNNER_TEMP/preview-comment/ (comment.md, stack and, for a pull request, pr) and the job's step summary.
Usage: .venv/bin/python scripts/ci/render_comment.py preview|synth
Environment: STACK, REQUESTER (preview: who asks, e.g. github:login), PR_NUMBER (empty outside pull requests),
RUNNER_TEMP and GITHUB_STEP_SUMMARY (set by the runner).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from engine.masking import Masker

ROOT = Path(__file__).resolve().parents[2]
STACK_RE = re.compile(r"[a-z][a-z0-9-]{0,62}")
PR_RE = re.compile(r"[1-9][0-9]{0,9}")
COMMENT_LIMIT = 65_536 - 100  # GitHub's limit for a comment, less room for the marker the poster adds
ERROR_LINES = 60  # the end of a failed command's output that the comment shows
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSPHRASE|PASSWORD|PRIVATE|(^|_)KEY($|_)")
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
EXIT_INVALID = 3


def command(mode: str, stack: str, env: Mapping[str, str]) -> list[str]:
    datamcp = str(ROOT / ".venv" / "bin" / "datamcp")
    if mode == "synth":
        return [datamcp, "synth", stack, "--format", "markdown"]
    return [datamcp, "preview", stack, "--user", env["REQUESTER"], "--format", "markdown"]


def env_masker(env: Mapping[str, str]) -> Masker:
    """Masks the values of the job's secret-looking variables (passphrases, keys, tokens) besides credential shapes:
    a comment is public, and GitHub masks secrets in logs only."""
    return Masker(value for name, value in env.items() if SECRET_NAME.search(name.upper()))


def failure_comment(mode: str, stack: str, code: int, output: str, masker: Masker) -> str:
    """The comment for a command that failed: what failed, how, and the end of its (masked) output."""
    lines = ANSI.sub("", output).strip().splitlines()[-ERROR_LINES:] or ["(no output)"]
    text = masker.text("\n".join(lines))
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    what = "Preview" if mode == "preview" else "Offline synth"
    return "\n".join(
        [
            f"### DataMCP {mode}: `{stack}` failed",
            "",
            f"> [!CAUTION]\n> {what} of `{stack}` failed (exit {code}); nothing was changed. The error, masked:",
            "",
            f"{fence}text",
            text,
            fence,
            "",
            "Fix the cause and push again, or re-run the workflow.",
            "",
        ]
    )


def fit(text: str) -> str:
    """Keep the comment under GitHub's limit (the renderers already aim below it; this is the last guard)."""
    if len(text) <= COMMENT_LIMIT:
        return text
    note = "\n\n_The comment was cut to fit a GitHub comment; the job's summary has all of it._\n"
    return text[: COMMENT_LIMIT - len(note)] + note


def write(out: Path, stack: str, pr: str, body: str, summary: str | None) -> None:
    """The artifact (the comment cut to fit, the stack, the PR number) and the whole comment in the job summary."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "comment.md").write_text(fit(body), encoding="utf-8")
    (out / "stack").write_text(stack + "\n")
    if pr:
        (out / "pr").write_text(pr + "\n")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(body + "\n")


def render(mode: str, env: Mapping[str, str]) -> int:
    stack, pr = env.get("STACK", ""), env.get("PR_NUMBER", "")
    if mode not in ("preview", "synth") or not STACK_RE.fullmatch(stack) or (pr and not PR_RE.fullmatch(pr)):
        print(
            f"render_comment: need preview|synth, a stack name and an empty or integer PR number; got {mode!r}, "
            f"{stack[:70]!r}, {pr[:20]!r}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if mode == "preview" and not env.get("REQUESTER"):
        print("render_comment: set REQUESTER (who asks for the preview, e.g. github:login)", file=sys.stderr)
        return EXIT_INVALID
    done = subprocess.run(command(mode, stack, env), capture_output=True, text=True, env=dict(env), check=False)
    sys.stderr.write(done.stderr)  # the job log keeps everything (GitHub masks the secrets it knows there)
    masker = env_masker(env)
    if done.returncode == 0:
        body = masker.text(done.stdout)
    else:
        body = failure_comment(mode, stack, done.returncode, done.stderr or done.stdout, masker)
    write(Path(env["RUNNER_TEMP"]) / "preview-comment", stack, pr, body, env.get("GITHUB_STEP_SUMMARY"))
    return done.returncode


if __name__ == "__main__":
    sys.exit(render(sys.argv[1] if len(sys.argv) > 1 else "", os.environ))
