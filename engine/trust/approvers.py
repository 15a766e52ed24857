"""The trust list: who may approve which stacks with which SSH keys; a YAML file in the repository, reviewed as code."""

from __future__ import annotations

import base64
import binascii
import stat
import tempfile
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from engine.errors import ApprovalInvalid, InvalidIdentity, SignatureInvalid, TrustListInvalid
from engine.identity import normalize_principal
from engine.trust import ssh

DEFAULT_PATH = Path("approvers.yaml")  # relative to the repository root
MAX_FILE_BYTES = 1024 * 1024
KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "sk-ssh-ed25519@openssh.com",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "ssh-rsa",
    }
)
_MAX_KEY_BLOB = 16 * 1024


class Role(StrEnum):
    APPROVER = "approver"  # may approve previews of the stacks and environments listed for them
    ADMIN = "admin"  # may cancel other people's operations and re-initialise stacks
    SECURITY = "security"  # counts for the policy rules that require a security approver (IAM changes)


class SshPublicKey(BaseModel):
    """One OpenSSH public key (`keytype base64`); the comment is dropped, it proves nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keytype: str
    blob: str

    @classmethod
    def parse(cls, line: object) -> SshPublicKey:
        """A key from an `authorized_keys`-style line without options; ValueError says why it is not one."""
        if isinstance(line, SshPublicKey):
            return line
        if not isinstance(line, str):
            raise ValueError("a key is one line: 'keytype base64 [comment]'")
        keytype, _, rest = line.strip().partition(" ")
        if keytype not in KEY_TYPES:
            raise ValueError(f"unsupported key type {keytype[:40]!r}; use one of {', '.join(sorted(KEY_TYPES))}")
        blob = rest.strip().split(" ", 1)[0]
        if _embedded_keytype(blob) != keytype:
            raise ValueError(f"the {keytype} key's base64 data is not a {keytype} public key")
        return cls(keytype=keytype, blob=blob)

    def __str__(self) -> str:
        return f"{self.keytype} {self.blob}"


def _embedded_keytype(blob: str) -> str | None:
    """The key type named inside a public key blob (its first SSH string), or None when it is not one."""
    if len(blob) > _MAX_KEY_BLOB:
        return None
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    size = int.from_bytes(raw[:4], "big")
    return raw[4 : 4 + size].decode("ascii", errors="replace") if 0 < size <= len(raw) - 4 else None


def _principal(raw: str) -> str:
    try:
        return normalize_principal(raw)
    except InvalidIdentity as exc:
        raise ValueError(exc.message) from exc


Principal = Annotated[str, AfterValidator(_principal)]
StackPattern = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._*?\[\]!-]+$")]
Key = Annotated[SshPublicKey, BeforeValidator(SshPublicKey.parse)]


class Approver(BaseModel):
    """One person in the trust list: their principal, roles, what they may approve, and their public keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: Principal
    aliases: tuple[Principal, ...] = ()  # the same person as other systems name them (e.g. github:alice, for CI)
    roles: tuple[Role, ...] = Field(min_length=1)
    stacks: tuple[StackPattern, ...] = ()  # fnmatch patterns over stack names
    environments: tuple[Literal["dev", "prod"], ...] = ()
    keys: tuple[Key, ...] = ()  # none: this person approves only where the server vouches (console, CI)

    @model_validator(mode="after")
    def _approver_has_scope(self) -> Approver:
        if Role.APPROVER in self.roles and not (self.stacks or self.environments):
            raise ValueError("an approver needs `stacks` or `environments` saying what they may approve")
        return self

    def may_approve(self, stack: str, environment: str) -> bool:
        """Whether this person may approve `stack`: approver role, and the stack or its environment is listed."""
        listed = environment in self.environments or any(fnmatchcase(stack, p) for p in self.stacks)
        return Role.APPROVER in self.roles and listed


class _TrustFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    approvers: tuple[Approver, ...]
    required_approvals: dict[StackPattern, Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=dict)


@dataclass(frozen=True)
class TrustList:
    """The validated trust list: unique principals, each key belonging to exactly one of them."""

    source: str
    approvers: tuple[Approver, ...]
    required: tuple[tuple[str, int], ...] = ()  # (stack pattern, approvals needed), first match wins

    @classmethod
    def load(cls, path: Path) -> TrustList:
        """Read and validate the trust list at `path`; TrustListInvalid names the file and the entry at fault."""
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # links are followed (mounted ConfigMaps are links)
                raise TrustListInvalid(f"{path}: not a regular file", file=str(path))
            with path.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise TrustListInvalid(f"cannot read the trust list {path}: {exc.strerror}", file=str(path)) from exc
        if len(data) > MAX_FILE_BYTES:
            raise TrustListInvalid(f"{path}: larger than {MAX_FILE_BYTES} bytes", file=str(path))
        return cls.parse(data.decode("utf-8", errors="replace"), source=str(path))

    @classmethod
    def parse(cls, text: str, source: str = "<trust list>") -> TrustList:
        """Validate trust-list YAML held in memory (e.g. deployed from a secret); `source` names it in errors."""
        try:
            data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise TrustListInvalid(f"{source}: not valid YAML: {_yaml_problem(exc)}", file=source) from exc
        if not isinstance(data, dict):
            raise TrustListInvalid(f"{source}: expected a mapping with `version: 1` and `approvers:`", file=source)
        try:
            parsed = _TrustFile.model_validate(data)
        except ValidationError as exc:
            raise _invalid(source, exc, data) from exc
        _check_unique(source, parsed.approvers)
        return cls(source=source, approvers=parsed.approvers, required=tuple(parsed.required_approvals.items()))

    def approver(self, principal: str) -> Approver | None:
        """The entry for `principal` (compared in normal form), or None; an unusable name is nobody."""
        try:
            name = normalize_principal(principal)
        except InvalidIdentity:
            return None
        return next((a for a in self.approvers if name == a.principal or name in a.aliases), None)

    def has_role(self, principal: str, role: Role) -> bool:
        """Whether the list gives `principal` this role (for admin actions: cancel others' operations, re-init)."""
        entry = self.approver(principal)
        return entry is not None and role in entry.roles

    def may_approve(self, principal: str, stack: str, environment: str) -> bool:
        """Whether `principal` is an approver whose `stacks` patterns or `environments` cover this stack."""
        entry = self.approver(principal)
        return entry is not None and entry.may_approve(stack, environment)

    def principal_for_key(self, key: SshPublicKey) -> str | None:
        """Whose key this is, if the list knows it."""
        return next((a.principal for a in self.approvers if key in a.keys), None)

    def required_approvals(self, stack: str, environment: str) -> int:
        """How many different people must approve a change of `stack`: the first matching pattern of
        `required_approvals`, else 2 for production and 1 elsewhere."""
        return required_approvals(self.required, stack, environment)

    def allowed_signers_text(self) -> str:
        """The OpenSSH allowed_signers content: each key valid only for its principal, in the approval namespace."""
        return "".join(f'{a.principal} namespaces="{ssh.NAMESPACE}" {key}\n' for a in self.approvers for key in a.keys)

    @contextmanager
    def allowed_signers_file(self) -> Iterator[Path]:
        """A private temporary allowed_signers file for `ssh-keygen -Y verify`, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="datamcp-signers-") as tmp:
            path = Path(tmp) / "allowed_signers"
            path.write_text(self.allowed_signers_text(), encoding="utf-8")
            yield path


def required_approvals(rules: Sequence[tuple[str, int]], stack: str, environment: str) -> int:
    """The N of the N-person rule for a stack (also without a trust list, as in dev mode)."""
    for pattern, count in rules:
        if fnmatchcase(stack, pattern):
            return count
    return 2 if environment == "prod" else 1


def verify_signed(
    trust: TrustList,
    message: bytes,
    signature: str,
    stack: str,
    environment: str,
    role: Role = Role.APPROVER,
) -> str:
    """The principal proven by an SSH signature over `message`, if they hold `role` for `stack`; else a typed error.

    SignatureInvalid: the signature does not verify against a listed key. ApprovalInvalid: it does, but that person
    may not approve this stack (or is not an admin, for `role=Role.ADMIN`).
    """
    with trust.allowed_signers_file() as signers:
        principals = ssh.find_principals(signature, signers)
        if len(principals) != 1:
            raise SignatureInvalid(f"the signing key is not in the trust list {trust.source}", file=trust.source)
        principal = principals[0]
        ssh.verify(message, signature, principal, signers)
    allowed = (
        trust.may_approve(principal, stack, environment) if role is Role.APPROVER else trust.has_role(principal, role)
    )
    if not allowed:
        raise ApprovalInvalid(
            f"{principal!r} is not allowed to act as {role.value} for stack {stack!r} ({environment}) "
            f"by the trust list {trust.source}",
            principal=principal,
            stack=stack,
            role=role.value,
        )
    return principal


def _check_unique(source: str, approvers: Sequence[Approver]) -> None:
    """Refuse a principal listed twice (after normalisation) or a key shared by two entries: either is ambiguous."""
    principals: dict[str, int] = {}
    keys: dict[SshPublicKey, int] = {}
    for index, entry in enumerate(approvers):
        for name in (entry.principal, *entry.aliases):
            first = principals.setdefault(name, index)
            if first != index:
                raise TrustListInvalid(
                    f"{source}: approvers[{index}] lists principal {name!r} again (first at approvers[{first}])",
                    file=source,
                    entry=f"approvers[{index}]",
                )
        for key in entry.keys:
            owner = keys.setdefault(key, index)
            if owner != index:
                raise TrustListInvalid(
                    f"{source}: approvers[{index}] ({entry.principal}) reuses the {key.keytype} key of "
                    f"approvers[{owner}] ({approvers[owner].principal})",
                    file=source,
                    entry=f"approvers[{index}]",
                )


def _invalid(source: str, exc: ValidationError, data: Any) -> TrustListInvalid:
    """One readable TrustListInvalid from pydantic's first error: file, entry (with its principal) and reason."""
    errors = exc.errors()
    loc = errors[0]["loc"]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "top level"
    reason = errors[0]["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return TrustListInvalid(f"{source}: {where}{_entry_label(data, loc)}: {reason}{more}", file=source, entry=where)


def _entry_label(data: Any, loc: tuple[int | str, ...]) -> str:
    """` (principal 'alice')` for an error inside an approvers entry that names one, so the reader finds it."""
    if len(loc) < 2 or loc[0] != "approvers" or not isinstance(loc[1], int) or not isinstance(data, dict):
        return ""
    entries = data.get("approvers")
    entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
    raw = entry.get("principal") if isinstance(entry, dict) else None
    return f" (principal {str(raw)[:60]!a})" if raw is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`line N: problem` from a YAML error, instead of PyYAML's multi-line report."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f"line {exc.problem_mark.line + 1}: {exc.problem}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated within one mapping (plain YAML lets the last one silently win)."""


def _mapping_without_repeats(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
        if isinstance(key, Hashable):
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats)
