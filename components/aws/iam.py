"""Pure helpers for IAM policy documents and names."""

from __future__ import annotations

import json

AWS_MANAGED = "arn:aws:iam::aws:policy/"
IAM_NAME_INVALID = r"[^\w+=,.@-]"  # what IAM role and policy names may not contain


def assume_role_policy(service: str, *, tag_session: bool = False) -> str:
    """A trust policy that lets one AWS service assume the role."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}],
        }
    )


def managed(policy: str) -> str:
    return AWS_MANAGED + policy
