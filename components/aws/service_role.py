"""An IAM role that one AWS service may assume, holding only the AWS managed policies it is given."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.aws.iam import IAM_NAME_INVALID, assume_role_policy, managed
from components.base import ComponentArgs, child
from components.naming import physical_name

_POLICY_NAME = re.compile(r"^[\w+=,.@/-]{1,128}$")


class ServiceRoleArgs(ComponentArgs):
    service: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$",
        description="The one service principal trusted to assume the role, e.g. eks.amazonaws.com.",
    )
    managed_policies: list[str] = Field(
        default_factory=list,
        description="AWS managed policy names to attach (no 'arn:' prefix); none unless asked.",
    )
    role_name: str | None = Field(
        None, pattern=r"^[\w+=,.@-]{1,64}$", description="Physical name; derived from project/stack/name if unset."
    )
    tag_session: bool = Field(False, description="Also trust sts:TagSession (EKS wants it for the cluster role).")

    @field_validator("managed_policies")
    @classmethod
    def _policies(cls, value: list[str]) -> list[str]:
        if len(value) != len(set(value)):
            raise ValueError("managed_policies must be unique: each one is a resource named after it")
        for policy in value:
            if not _POLICY_NAME.match(policy):
                raise ValueError(
                    f"managed policy {policy!r} must be a managed policy name such as AmazonEKS_CNI_Policy"
                )
        return value


class ServiceRole(pulumi.ComponentResource):
    """The role and one attachment per managed policy, as one unit so that each service's role is written once.

    Children are named `<name>-role` and `<name>-<policy>`. `moved_from` is the component these children were
    registered under before they had a ServiceRole parent: an alias to it maps existing state onto the new URNs,
    so a deployment made before the move keeps its roles instead of replacing them.
    """

    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ServiceRoleArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        moved_from: pulumi.Resource | None = None,
    ) -> None:
        super().__init__("datamcp:aws:ServiceRole", name, None, opts)
        aliases = [pulumi.Alias(parent=moved_from)] if moved_from is not None else None
        role_name = args.role_name or physical_name(
            pulumi.get_project(), pulumi.get_stack(), name, max_len=64, invalid=IAM_NAME_INVALID
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            assume_role_policy=assume_role_policy(args.service, tag_session=args.tag_session),
            tags=args.resource_tags(),
            opts=child(self, aliases=aliases),
        )
        # Dependents wait on these (not only on the role), so nothing uses the role before its policies are on.
        self.attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}", role=self.role.name, policy_arn=managed(policy), opts=child(self, aliases=aliases)
            )
            for policy in args.managed_policies
        ]
        self.arn = self.role.arn
        self.name = self.role.name
        self.register_outputs({"arn": self.arn, "name": self.name})
