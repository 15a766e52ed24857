#!/usr/bin/env bash
# The stacks the preview workflow previews, as `stacks=<JSON list>` in $GITHUB_OUTPUT: the dispatched STACK, or the
# stacks that a pull request's changes from BASE to HEAD affect (scripts/ci/affected_stacks.py).
# Environment: EVENT (the event name), STACK (workflow_dispatch), BASE and HEAD (commit SHAs of a pull request).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ "$EVENT" = "workflow_dispatch" ]; then
  if ! [[ "$STACK" =~ ^[a-z][a-z0-9-]{0,62}$ ]]; then
    echo "affected-stacks: not a stack name: ${STACK:0:70}" >&2
    exit 3
  fi
  stacks="[\"$STACK\"]"
else
  for sha in "$BASE" "$HEAD"; do
    if ! [[ "$sha" =~ ^[0-9a-f]{40}$ ]]; then
      echo "affected-stacks: BASE and HEAD must be commit SHAs, got '${sha:0:70}'" >&2
      exit 3
    fi
  done
  changed=$(git diff --name-only "$BASE" "$HEAD")
  stacks=$(python3 "$root/scripts/ci/affected_stacks.py" <<<"$changed")
fi
echo "stacks=$stacks" >>"$GITHUB_OUTPUT"
echo "affected stacks: $stacks"
