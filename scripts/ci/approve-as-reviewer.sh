#!/usr/bin/env bash
# Approve PREVIEW_ID as the person who approved this run in the stack's GitHub environment (its required reviewers are
# the human approval): the server key signs for that reviewer, with this run as the evidence. Writes `approval_id=`
# to $GITHUB_OUTPUT. Exit 4 when no reviewer approved the run (the environment has no required reviewers).
# Environment: STACK, PREVIEW_ID, GH_TOKEN, DATAMCP_SERVER_KEY and the DATAMCP_* settings of the job;
# GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_SERVER_URL (set by the runner).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if ! [[ "$PREVIEW_ID" =~ ^[0-9a-f-]{36}$ ]]; then
  echo "approve-as-reviewer: not a preview id: ${PREVIEW_ID:0:70}" >&2
  exit 3
fi
reviewer=$(gh api "repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/approvals" \
  --jq '[.[] | select(.state == "approved") | .user.login] | last // empty')
if ! [[ "$reviewer" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,38}$ ]]; then
  echo "approve-as-reviewer: no reviewer approved this run: configure required reviewers on the '$STACK'" \
    "environment" >&2
  exit 4
fi
run_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
approval=$("$root/.venv/bin/datamcp" approve "$PREVIEW_ID" --as-server --approver "github:$reviewer" \
  --evidence "github_environment=$STACK" --evidence "github_run=$run_url" --json)
approval_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["approval_id"])' <<<"$approval")
echo "approval_id=$approval_id" >>"$GITHUB_OUTPUT"
echo "approved preview $PREVIEW_ID as github:$reviewer (approval $approval_id)"
