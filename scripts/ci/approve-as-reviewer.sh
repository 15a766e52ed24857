#!/usr/bin/env bash
# Approve PREVIEW_ID as each person who approved this run in the stack's GitHub environment (its required reviewers
# are the human approval): the server key signs for each reviewer, who must be in approvers.yaml (alias github:LOGIN),
# with this run as the evidence. Writes `approval_id=ID[,ID]` to $GITHUB_OUTPUT. Exit 4 when no reviewer approved the run (the environment has no required reviewers).
# Environment: STACK, PREVIEW_ID, GH_TOKEN, DATAMCP_SERVER_KEY and the DATAMCP_* settings of the job;
# GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_SERVER_URL (set by the runner).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if ! [[ "$PREVIEW_ID" =~ ^[0-9a-f-]{36}$ ]]; then
  echo "approve-as-reviewer: not a preview id: ${PREVIEW_ID:0:70}" >&2
  exit 3
fi
# Every reviewer who approved the run (production stacks need two different people; each counts once).
reviewers=$(gh api "repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/approvals" \
  --jq '[.[] | select(.state == "approved") | .user.login] | unique | .[]')
run_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
ids=()
for reviewer in $reviewers; do
  if ! [[ "$reviewer" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,38}$ ]]; then
    echo "approve-as-reviewer: skipping a reviewer login that is not one: ${reviewer:0:40}" >&2
    continue
  fi
  approval=$("$root/.venv/bin/datamcp" approve "$PREVIEW_ID" --as-server --approver "github:$reviewer" \
    --evidence "github_environment=$STACK" --evidence "github_run=$run_url" --json)
  approval_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["approval_id"])' <<<"$approval")
  ids+=("$approval_id")
  echo "approved preview $PREVIEW_ID as github:$reviewer (approval $approval_id)"
done
if [ ${#ids[@]} -eq 0 ]; then
  echo "approve-as-reviewer: no reviewer approved this run: configure required reviewers on the '$STACK'" \
    "environment" >&2
  exit 4
fi
(IFS=,; echo "approval_id=${ids[*]}") >>"$GITHUB_OUTPUT"
