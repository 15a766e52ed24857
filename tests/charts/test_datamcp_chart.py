"""helm lint and helm template on charts/datamcp with the helm the bootstrap builds; rendered manifests checked."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "datamcp"

pytestmark = pytest.mark.slow


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    assert HELM.exists(), "helm is built by `make bootstrap`"
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, check=False, timeout=120)


def render(*sets: str) -> list[dict[str, Any]]:
    result = helm("template", "mcp", str(CHART), "--namespace", "datamcp", *[a for s in sets for a in ("--set", s)])
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_helm_lint_strict_passes() -> None:
    result = helm("lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr


def test_renders_the_expected_objects() -> None:
    kinds = sorted(d["kind"] for d in render())
    assert kinds == ["ConfigMap", "Deployment", "Service", "ServiceAccount"]


def test_no_container_runs_as_root_and_every_container_has_limits() -> None:
    spec = pod_spec(render())
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    containers = spec["containers"] + spec.get("initContainers", [])
    assert containers
    for c in containers:
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert set(c["resources"]["limits"]) >= {"cpu", "memory"}
        assert set(c["resources"]["requests"]) >= {"cpu", "memory"}
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert c["readinessProbe"]["httpGet"]["port"] == "http"


def test_config_comes_from_a_secret_and_service_is_internal() -> None:
    docs = render("serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/mcp")
    container = pod_spec(docs)["containers"][0]
    assert {"secretRef": {"name": "datamcp-config"}} in container["envFrom"]
    service = next(d for d in docs if d["kind"] == "Service")
    assert service["spec"]["type"] == "ClusterIP"
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/mcp"}
    assert not any(d["kind"] == "Secret" for d in docs), "the chart never carries secret values"


def test_bad_values_fail_to_render() -> None:
    assert helm("template", "mcp", str(CHART), "--set", "config.env.PATH=/x").returncode != 0
    assert helm("template", "mcp", str(CHART), "--set", "config.existingSecret=").returncode != 0


def test_default_image_is_the_one_make_image_builds_and_a_digest_pins_it() -> None:
    version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert pod_spec(render())["containers"][0]["image"] == f"datamcp:{version}"  # the tag of .cache/image/datamcp-oci
    digest = "sha256:" + "a" * 64
    pinned = pod_spec(render("image.repository=registry.invalid/datamcp", f"image.digest={digest}"))
    assert pinned["containers"][0]["image"] == f"registry.invalid/datamcp@{digest}"


def test_two_replicas_take_the_store_url_from_a_secret_and_are_ready_only_with_it() -> None:
    refused = helm("template", "mcp", str(CHART), "--set", "replicaCount=2")
    assert refused.returncode != 0 and "needs the shared store" in refused.stderr
    docs = render("replicaCount=2", "store.existingSecret=datamcp-store")
    assert next(d for d in docs if d["kind"] == "Deployment")["spec"]["replicas"] == 2
    container = pod_spec(docs)["containers"][0]
    store = next(e for e in container["env"] if e["name"] == "DATAMCP_STORE_URL")
    assert store["valueFrom"]["secretKeyRef"] == {"name": "datamcp-store", "key": "url"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert not [e for e in pod_spec(render())["containers"][0]["env"] if e["name"] == "DATAMCP_STORE_URL"]
