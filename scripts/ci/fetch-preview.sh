#!/usr/bin/env bash
# Fetch the saved preview (record and plan) that the preview workflow uploaded for STACK and PREVIEW_ID.
set -euo pipefail
stack=$1
preview_id=$2
if ! [[ "$stack" =~ ^[a-z][a-z0-9-]{0,62}$ && "$preview_id" =~ ^[0-9a-f-]{36}$ ]]; then
  echo "fetch-preview: need a stack name and a preview id, got '${stack:0:70}' '${preview_id:0:70}'" >&2
  exit 3
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest="$root/.state"
mkdir -p "$dest/previews" "$dest/plans"
chmod 700 "$dest/plans"
# The newest unexpired artifact of this stack's previews that holds this preview id.
for name in $(gh api "repos/${GITHUB_REPOSITORY}/actions/artifacts?per_page=100" \
    --jq ".artifacts[] | select(.expired == false) | select(.name | startswith(\"previews-$stack-\")) | .name"); do
  run_id=${name##*-}
  tmp=$(mktemp -d)
  gh run download "$run_id" --name "$name" --dir "$tmp" >/dev/null 2>&1 || continue
  # The artifact holds previews/ (the records) and plans/ (the saved plans), as the preview job left them.
  if [ -f "$tmp/previews/$preview_id.json" ]; then
    cp "$tmp/previews/$preview_id.json" "$dest/previews/"
    [ -f "$tmp/plans/$preview_id.plan.json" ] && cp "$tmp/plans/$preview_id.plan.json" "$dest/plans/"
    echo "preview $preview_id found in run $run_id"
    exit 0
  fi
done
echo "preview $preview_id of $stack was not found in the preview workflow's artifacts (7 days)" >&2
exit 3
