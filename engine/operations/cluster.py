"""The real cluster a Kubernetes stack runs on (DATAMCP_KUBECONFIG, docs/sandbox.md): which stacks use it, its
kubeconfig set on the stack's private workspace as a secret, and the credentials in it that every operation masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from engine.catalog import StackCatalog
from engine.settings import Settings
from engine.store_files import read_regular

CREDENTIAL_KEYS = frozenset(
    {"token", "password", "client-key-data", "id-token", "refresh-token", "access-token", "client-secret"}
)


def kubeconfig_credentials(text: str) -> list[str]:
    """The credentials of a kubeconfig's users (tokens, passwords, private keys, auth-provider secrets)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    users = doc.get("users") if isinstance(doc, dict) else None
    return _credentials([u.get("user") for u in users if isinstance(u, dict)] if isinstance(users, list) else [])


def _credentials(value: Any) -> list[str]:
    if isinstance(value, list):
        return [c for item in value for c in _credentials(item)]
    if not isinstance(value, dict):
        return []
    found = [v for k, v in value.items() if k in CREDENTIAL_KEYS and isinstance(v, str)]
    return found + _credentials([v for v in value.values() if isinstance(v, dict | list)])


class Cluster:
    def __init__(self, settings: Settings, catalog: StackCatalog) -> None:
        self.settings = settings
        self.catalog = catalog

    def kubeconfig(self, stack: str) -> Path | None:
        """The real cluster's kubeconfig when `stack` runs on it, else None."""
        if self.settings.kubeconfig is None or self.catalog.entry(stack).cloud != "kubernetes":
            return None
        return self.settings.kubeconfig

    def configure(self, stack: str, handle: auto.Stack) -> None:
        """A Kubernetes stack on the real cluster gets its kubeconfig as a secret (after every sync of the stack
        file, which drops it)."""
        kubeconfig = self.kubeconfig(stack)
        if kubeconfig is None:
            return
        text = read_regular(kubeconfig).decode()
        handle.set_config(f"{self.catalog.project}:kubeconfig", auto.ConfigValue(value=text, secret=True))

    def secrets(self, stack: str) -> list[str]:
        """The kubeconfig as it is now (it is rotated without the stack file changing) and each credential in it, so
        an error that echoes a bare token is masked too."""
        kubeconfig = self.kubeconfig(stack)
        if kubeconfig is None:
            return []
        text = read_regular(kubeconfig).decode()
        return [text, *kubeconfig_credentials(text)]
