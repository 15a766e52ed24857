#!/usr/bin/env bash
# Build the DataMCP server image without a container daemon or registry (`make image`): Debian's packages assembled
# by mmdebstrap into a root filesystem, the runtime venv built inside it by its own python3.11, the pinned Go tools
# and the project's tracked sources added, packed by umoci as an OCI image layout in .cache/image/datamcp-oci (tag =
# the project version). A stamp of the inputs' digest makes a second run a no-op. Runs as root (chroot, bind mounts).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out=${IMAGE_OUT:-$root/.cache/image}
layout=$out/datamcp-oci
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n1)
uid=$(sed -n 's/^ *runAsUser: *\([0-9]*\)$/\1/p' charts/datamcp/values.yaml | head -n1) # the chart's user
suite=bookworm # Debian 12: its python3.11 is the Python the lock is compiled for
packages=python3.11,ca-certificates,openssh-client # openssh-client: ssh-keygen -Y verifies approvals
tools=(pulumi opa) # what the engine runs; helm, actionlint and hydra are development and CI tools
# The tracked files the server needs at run time (the engine digests this program closure; tests stay out).
app_paths=(engine components stacks charts policies mcp_server.py Pulumi.yaml 'Pulumi.*.yaml' approvers.yaml
  pyproject.toml requirements/lock.txt requirements/main.in)

log() { echo "image: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "the build needs root (mmdebstrap, chroot, bind mounts); run it with sudo"
[ -n "$version" ] && [ -n "$uid" ] || die "could not read the version (pyproject.toml) or runAsUser (chart values)"
for tool in "${tools[@]}"; do
  [ -x ".tools/bin/$tool" ] || die ".tools/bin/$tool is missing; run \`make bootstrap\`"
done
missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v umoci >/dev/null || missing+=(umoci)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The inputs: this script's folder, the pins, the tracked app sources and the tool binaries.
digest=$(
  {
    cat scripts/image/* requirements/lock.txt
    echo "$suite $packages $uid $version"
    git ls-files -s -- "${app_paths[@]}"
    git diff --no-ext-diff HEAD -- "${app_paths[@]}"
    for tool in "${tools[@]}"; do sha256sum ".tools/bin/$tool"; done
  } | sha256sum | cut -d' ' -f1
)
if [ -f "$layout/index.json" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$digest" ]; then
  log "up to date: $layout:$version"
  exit 0
fi

start=$(date +%s)
mkdir -p "$out"
work=$(mktemp -d "$out/work.XXXXXX")
rootfs=$work/rootfs
cleanup() {
  for m in "$rootfs/tmp/uv-cache" "$rootfs/proc"; do mountpoint -q "$m" 2>/dev/null && umount "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
revision=$(git rev-parse HEAD)
git diff --quiet HEAD -- "${app_paths[@]}" || revision="$revision-dirty"

# 1. The Debian root filesystem, from this machine's configured apt sources (none are written into the project).
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -s "$f" ] && sources+=("$f")
done
log "debian $suite (minbase + $packages)"
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="chroot \"\$1\" groupadd --gid $uid datamcp" \
  --customize-hook="chroot \"\$1\" useradd --uid $uid --gid $uid --no-create-home --home-dir /var/lib/datamcp \
    --shell /usr/sbin/nologin datamcp" \
  --customize-hook="install -d -m 0700 -o $uid -g $uid \"\$1/var/lib/datamcp\"" \
  --customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*' \
  "$suite" "$rootfs" "${sources[@]}"

# 2. The application: tracked sources only (never .state, .env or keys), the tools, a venv of the image's python.
app=$rootfs/opt/datamcp
install -d -m 0755 "$app" "$app/app" "$app/bin"
git ls-files -z -- "${app_paths[@]}" | tar -cf - --null -T - | tar -xf - -C "$app/app" --no-same-owner
for tool in "${tools[@]}"; do install -m 0755 ".tools/bin/$tool" "$app/bin/$tool"; done

build=$rootfs/tmp/build
mkdir -p "$build" "$rootfs/tmp/uv-cache"
install -m 0755 .venv/bin/uv "$build/uv"
.venv/bin/python scripts/image/runtime_requirements.py >"$build/runtime-lock.txt"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
uv_cache=$(.venv/bin/uv cache dir)
mkdir -p "$uv_cache"
mount --bind "$uv_cache" "$rootfs/tmp/uv-cache"
mount -t proc proc "$rootfs/proc"
log "venv (python3.11 of the image, $(grep -c '^[a-z]' "$build/runtime-lock.txt") pinned distributions)"
chroot "$rootfs" /usr/bin/python3.11 -m venv --without-pip /opt/datamcp/venv
# uv trusts the build machine's certificate store (which may hold a proxy's CA); it stays out of the image.
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$build/ca.crt"
chroot "$rootfs" env UV_CACHE_DIR=/tmp/uv-cache SSL_CERT_FILE=/tmp/build/ca.crt UV_NATIVE_TLS=1 \
  /tmp/build/uv pip install --quiet \
  --python /opt/datamcp/venv/bin/python --require-hashes --link-mode=copy -r /tmp/build/runtime-lock.txt
# The project itself: its import path and its two commands (what an editable install writes, without setuptools).
site=$(chroot "$rootfs" /opt/datamcp/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
echo /opt/datamcp/app >"$rootfs$site/datamcp.pth"
write_command() {
  printf '#!/opt/datamcp/venv/bin/python\nimport sys\n\nfrom %s import main\n\nsys.exit(main())\n' "$2" \
    >"$app/venv/bin/$1"
  chmod 0755 "$app/venv/bin/$1"
}
write_command datamcp engine.cli
write_command datamcp-mcp mcp_server

# Whole-second mtimes (the build's date): a .pyc records its source's mtime in seconds, and the layers' tar headers
# must give back exactly that, or the cache is cold in the image.
find "$app" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

# 3. Bytecode in the engine's private cache (engine/bytecode.py), owned by the server's user and compiled by it, so no
# process compiles the cloud SDKs from source and nothing is written next to the sources (the root fs is read-only).
log "bytecode"
install -d -m 0700 -o "$uid" -g "$uid" "$app/pycache"
chroot --userspec="$uid:$uid" "$rootfs" env -i PATH=/opt/datamcp/venv/bin:/opt/datamcp/bin:/usr/bin:/bin \
  HOME=/tmp PYTHONPYCACHEPREFIX=/opt/datamcp/pycache DATAMCP_STATE_DIR=/tmp/warm-state \
  /opt/datamcp/venv/bin/python -B - <<'PY'
import compileall
import engine  # noqa: F401  (first: bytecode goes to the private cache)
import pulumi, pulumi.automation, pulumi_aws, pulumi_gcp, pulumi_kubernetes, stacks.registry  # noqa: E401
import engine.cli.commands, engine.mcpserver.server, engine.operations  # noqa: E401, F401
from engine.settings import default_project_root
from engine.synth import synth_in_this_process

for stack in stacks.registry.STACKS:  # the stack programs load the SDK modules they use lazily
    synth_in_this_process(stack, default_project_root())
compileall.compile_dir("/opt/datamcp/app", quiet=1)
PY

umount "$rootfs/tmp/uv-cache" "$rootfs/proc"
rm -rf "$rootfs/tmp/"* "$rootfs/tmp/".[!.]* "$rootfs/etc/resolv.conf" "$rootfs/var/cache/ldconfig/aux-cache"
find "$rootfs/opt/datamcp" -name __pycache__ -prune -exec rm -rf {} + # bytecode only in the private cache
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/hostname"                                     # not the build machine's name
rm -f "$app/venv/.lock"                                       # uv's lock file, world-writable
find "$rootfs" -xdev -type f -perm /6000 -exec chmod a-s {} + # no setuid or setgid program (su, mount, ssh-keysign...)
find "$rootfs/dev" -mindepth 1 -delete                        # the runtime provides /dev

# 4. The SBOM beside the image: the pinned Python distributions and the Debian packages.
chroot "$rootfs" /opt/datamcp/venv/bin/python -c '
import json, sys
from importlib import metadata
print(json.dumps(sorted(d.metadata["Name"] + "==" + d.version for d in metadata.distributions())))' >"$work/python.json"
chroot "$rootfs" dpkg-query -W -f '${Package}=${Version}\n' >"$work/debian.txt"

# 5. Two layers (Debian, then /opt/datamcp) and the config, as an OCI image layout.
mv "$rootfs/opt/datamcp" "$work/datamcp"
image=$work/oci
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
umoci init --layout "$image"
umoci new --image "$image:$version"
log "layers"
# unpack + repack rather than `umoci insert`, whose 0.4.7 layers (Debian's umoci) can end without the tar trailer.
bundle=$work/bundle
umoci unpack --image "$image:$version" "$bundle" >/dev/null
rmdir "$bundle/rootfs"
mv "$rootfs" "$bundle/rootfs"
umoci repack --refresh-bundle --image "$image:$version" --history.created "$created" \
  --history.created_by "mmdebstrap --variant=minbase $suite ($packages)" "$bundle"
mv "$work/datamcp" "$bundle/rootfs/opt/datamcp"
umoci repack --image "$image:$version" --history.created "$created" \
  --history.created_by "scripts/image/build.sh: /opt/datamcp" "$bundle"
umoci config --image "$image:$version" --history.created "$created" \
  --history.created_by "scripts/image/build.sh: config" \
  --config.user "$uid:$uid" --config.workingdir /opt/datamcp/app \
  --config.entrypoint /opt/datamcp/venv/bin/datamcp-mcp \
  --config.cmd --transport=http --config.cmd --host=0.0.0.0 --config.cmd --port=8000 \
  --config.exposedports 8000/tcp --config.volume /var/lib/datamcp \
  --config.env PATH=/opt/datamcp/venv/bin:/opt/datamcp/bin:/usr/local/bin:/usr/bin:/bin \
  --config.env DATAMCP_PROJECT_ROOT=/opt/datamcp/app --config.env DATAMCP_TOOLS_DIR=/opt/datamcp/bin \
  --config.env DATAMCP_STATE_DIR=/var/lib/datamcp --config.env PYTHONPYCACHEPREFIX=/opt/datamcp/pycache \
  --config.env PYTHONUNBUFFERED=1 --config.env DATAMCP_APPROVAL_MODE=signed --config.env DATAMCP_SANDBOX=0 \
  --config.label "org.opencontainers.image.title=datamcp" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$revision" \
  --config.label "org.opencontainers.image.source=https://github.com/datamcp/datamcp" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0" \
  --config.label "org.opencontainers.image.created=$created" \
  --created "$created"
umoci gc --layout "$image"

python3 - "$work/python.json" "$work/debian.txt" "$version" "$revision" >"$work/sbom.json" <<'PY'
import json, sys
python, debian, version, revision = sys.argv[1:]
print(json.dumps({"image": f"datamcp:{version}", "revision": revision,
                  "python": json.load(open(python)),
                  "debian": [line for line in open(debian).read().splitlines() if line]}, indent=2))
PY

rm -rf "$layout" "$out/datamcp-oci.sbom.json"
mv "$image" "$layout"
mv "$work/sbom.json" "$out/datamcp-oci.sbom.json"
echo "$digest" >"$out/stamp"
log "built $layout:$version in $(($(date +%s) - start))s ($(du -sh "$layout/blobs" | cut -f1) compressed)"
