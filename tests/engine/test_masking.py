from __future__ import annotations

import pytest

from engine.masking import SECRET, Masker, bounded


@pytest.mark.parametrize(
    "text",
    [
        "key AKIAIOSFODNN7EXAMPLE used",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "token ghp_sandboxDevTokenNotReal0123456789abcd",
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        '{"private_key": "-----BEGIN PRIVATE KEY-----abc"}',
        "password=hunter2hunter2",
    ],
)
def test_credential_shapes_are_masked(text: str) -> None:
    masked = Masker().text(text)
    assert SECRET in masked
    for fragment in (
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI",
        "MIIEpAIBAAKCAQEA",
        "ghp_sandbox",
        "abcdefghijklmnop",
        "dozjgNryP4J3",
        "hunter2hunter2",
    ):
        assert fragment not in masked


def test_known_secret_values_are_masked_everywhere_in_objects() -> None:
    m = Masker(["s3cr3t-value", "x"])  # too-short values are ignored: they would mask noise
    data = {"a": "prefix s3cr3t-value suffix", "b": ["s3cr3t-value"], "c": {"d": 1, "s3cr3t-value": "key kept"}}
    assert m.obj(data) == {"a": f"prefix {SECRET} suffix", "b": [SECRET], "c": {"d": 1, "s3cr3t-value": "key kept"}}
    assert m.text("x marks") == "x marks"


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:iam::123456789012:role/datamcp-aws-dev-cluster vpc-0a1b2c3d urn:pulumi:aws-dev::datamcp::x",
        "urn:pulumi:aws-dev::datamcp::kubernetes:core/v1:Secret::argocd-repo-credentials",
        "type kubernetes:core/v1:Secret created; secretsprovider: passphrase",
        "token_endpoint https://oidc.example/token",
    ],
)
def test_ordinary_infrastructure_text_is_left_alone(text: str) -> None:
    assert Masker().text(text) == text


def test_bounded_cuts_long_output_with_a_note() -> None:
    assert bounded("short", 100) == ("short", False)
    text, cut = bounded("y" * 1000, 200)
    assert cut and len(text) <= 200 + 60 and "more characters" in text
