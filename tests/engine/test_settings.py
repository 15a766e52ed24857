from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SettingsError
from engine.settings import DEV_PASSPHRASE, Settings, load_settings


def test_defaults_are_local_and_embedded(tmp_path: Path) -> None:
    s = Settings(project_root=tmp_path)
    assert s.state_dir == tmp_path / ".state"
    assert s.backend_url == (tmp_path / ".state" / "backend").as_uri()
    assert s.audit_url == f"sqlite:///{str(tmp_path / '.state' / 'audit.db').lstrip('/')}"
    assert s.pulumi_home == tmp_path / ".state" / "pulumi-home"
    assert s.tools_dir == tmp_path / ".tools" / "bin"
    assert s.secrets_provider == "passphrase"
    assert s.config_passphrase is not None
    assert s.config_passphrase.get_secret_value() == DEV_PASSPHRASE
    assert s.sandbox is True
    assert s.backend_path == tmp_path / ".state" / "backend"


def test_environment_overrides_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_BACKEND_URL", "s3://team-state?region=eu-west-1")
    monkeypatch.setenv("DATAMCP_SECRETS_PROVIDER", "awskms://alias/datamcp?region=eu-west-1")
    monkeypatch.setenv("DATAMCP_AUDIT_URL", "dynamodb://mcp_ops_log?region=eu-west-1")
    monkeypatch.setenv("DATAMCP_DEFAULT_USER", "ci-bot")
    s = load_settings(project_root=tmp_path)
    assert s.backend_url == "s3://team-state?region=eu-west-1"
    assert s.secrets_provider.startswith("awskms://")
    assert s.audit_url == "dynamodb://mcp_ops_log?region=eu-west-1"
    assert s.default_user == "ci-bot"
    assert s.backend_path is None
    assert s.sandbox is False
    assert s.config_passphrase is None


def test_secret_passphrase_is_not_printed(tmp_path: Path) -> None:
    s = Settings(project_root=tmp_path, config_passphrase="hunter2-very-secret")
    assert "hunter2-very-secret" not in repr(s)
    assert "hunter2-very-secret" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DATAMCP_BACKEND_URL", "ftp://state", "DATAMCP_BACKEND_URL"),
        ("DATAMCP_BACKEND_URL", "file://relative/dir", "DATAMCP_BACKEND_URL"),
        ("DATAMCP_BACKEND_URL", "s3://", "DATAMCP_BACKEND_URL"),
        ("DATAMCP_AUDIT_URL", "mysql://db/ops", "DATAMCP_AUDIT_URL"),
        ("DATAMCP_AUDIT_URL", "dynamodb://", "DATAMCP_AUDIT_URL"),
        ("DATAMCP_SECRETS_PROVIDER", "plaintext", "DATAMCP_SECRETS_PROVIDER"),
        ("DATAMCP_DEFAULT_USER", "../root", "DATAMCP_DEFAULT_USER"),
        ("DATAMCP_SANDBOX", "perhaps", "DATAMCP_SANDBOX"),
    ],
)
def test_invalid_values_are_rejected_with_the_variable_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings(project_root=tmp_path)
    assert named in info.value.message


def test_dev_passphrase_refused_for_a_shared_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_BACKEND_URL", "gs://team-state")
    with pytest.raises(SettingsError, match="DATAMCP_CONFIG_PASSPHRASE"):
        load_settings(project_root=tmp_path)
    monkeypatch.setenv("DATAMCP_CONFIG_PASSPHRASE", DEV_PASSPHRASE)
    with pytest.raises(SettingsError, match="dev-only passphrase"):
        load_settings(project_root=tmp_path)
    monkeypatch.setenv("DATAMCP_CONFIG_PASSPHRASE", "a-real-team-passphrase")
    assert load_settings(project_root=tmp_path).backend_url == "gs://team-state"


def test_pulumis_own_passphrase_variable_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_BACKEND_URL", "gs://team-state")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the-teams-passphrase")
    settings = load_settings(project_root=tmp_path)
    assert settings.config_passphrase is not None
    assert settings.config_passphrase.get_secret_value() == "the-teams-passphrase"


def test_datamcps_passphrase_variable_wins_over_pulumis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_BACKEND_URL", "gs://team-state")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the-pulumi-one")
    monkeypatch.setenv("DATAMCP_CONFIG_PASSPHRASE", "the-datamcp-one")
    settings = load_settings(project_root=tmp_path)
    assert settings.config_passphrase is not None
    assert settings.config_passphrase.get_secret_value() == "the-datamcp-one"


def test_an_empty_variable_means_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_BACKEND_URL", "")
    assert load_settings(project_root=tmp_path).backend_url == (tmp_path / ".state" / "backend").resolve().as_uri()
