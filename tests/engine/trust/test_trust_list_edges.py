"""The trust list's edges: exact errors (file, entry, reason), size limits, key blobs, and the N-person rule."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import ApprovalInvalid, SignatureInvalid, TrustListInvalid
from engine.trust import Role, TrustList, canonical_json, ssh, verify_signed
from engine.trust.approvers import _MAX_KEY_BLOB, MAX_FILE_BYTES, SshPublicKey, required_approvals

WriteTrust = Callable[[list[dict[str, Any]]], Path]
MESSAGE = canonical_json({"preview_id": "p-1"})


def string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def key_line(raw: bytes, keytype: str = "ssh-ed25519") -> str:
    return f"{keytype} {base64.b64encode(raw).decode()}"


def parse_error(text: str, source: str = "approvers.yaml") -> dict[str, object]:
    with pytest.raises(TrustListInvalid) as caught:
        TrustList.parse(text, source=source)
    return caught.value.to_dict()


def listing(public_keys: dict[str, str], **entry: Any) -> dict[str, Any]:
    base = {"principal": "alice", "roles": ["approver"], "environments": ["dev"], "keys": [public_keys["alice"]]}
    return {"version": 1, "approvers": [{**base, **entry}]}


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


# --- reading the file -----------------------------------------------------------------------------------------------
def test_an_unreadable_trust_list_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "approvers.yaml"
    with pytest.raises(TrustListInvalid) as caught:
        TrustList.load(path)
    assert caught.value.to_dict() == {
        "error": "trust_list_invalid",
        "message": f"cannot read the trust list {path}: No such file or directory",
        "file": str(path),
    }


def test_a_trust_list_over_the_size_limit_is_refused_unparsed(tmp_path: Path) -> None:
    path = tmp_path / "approvers.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(TrustListInvalid) as caught:
        TrustList.load(path)
    assert caught.value.to_dict() == {
        "error": "trust_list_invalid",
        "message": f"{path}: larger than {MAX_FILE_BYTES} bytes",
        "file": str(path),
    }


def test_a_trust_list_of_exactly_the_size_limit_loads(tmp_path: Path, public_keys: dict[str, str]) -> None:
    text = dump(listing(public_keys))
    path = tmp_path / "approvers.yaml"
    path.write_text(text + "#" * (MAX_FILE_BYTES - len(text.encode()) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert [a.principal for a in TrustList.load(path).approvers] == ["alice"]


def test_bytes_that_are_not_utf8_in_a_comment_do_not_stop_the_list(tmp_path: Path, public_keys: dict[str, str]) -> None:
    path = tmp_path / "approvers.yaml"
    path.write_bytes(b"# caf\xe9\n" + dump(listing(public_keys)).encode())
    assert [a.principal for a in TrustList.load(path).approvers] == ["alice"]


def test_a_loaded_list_is_named_by_its_path(tmp_path: Path, public_keys: dict[str, str]) -> None:
    path = tmp_path / "approvers.yaml"
    path.write_text(dump(listing(public_keys)))
    assert TrustList.load(path).source == str(path)


# --- parse errors ---------------------------------------------------------------------------------------------------
def test_a_list_held_in_memory_is_named_generically() -> None:
    with pytest.raises(TrustListInvalid) as caught:
        TrustList.parse("[]")
    assert caught.value.to_dict() == {
        "error": "trust_list_invalid",
        "message": "<trust list>: expected a mapping with `version: 1` and `approvers:`",
        "file": "<trust list>",
    }


def test_broken_yaml_names_the_line() -> None:
    assert parse_error("version: 1\napprovers: [\n") == {
        "error": "trust_list_invalid",
        "message": "approvers.yaml: not valid YAML: line 3: expected the node content, but found '<stream end>'",
        "file": "approvers.yaml",
    }


def test_a_control_character_is_named_without_a_line() -> None:
    assert parse_error("version: 1\x07\n")["message"] == (
        "approvers.yaml: not valid YAML: unacceptable character #x0007: special characters are not allowed"
    )


def test_a_repeated_key_names_its_line(public_keys: dict[str, str]) -> None:
    text = f"version: 1\nversion: 1\napprovers: []\n# {public_keys['alice']}\n"
    assert parse_error(text)["message"] == "approvers.yaml: not valid YAML: line 2: repeated key 'version'"


def test_an_invalid_entry_names_the_file_the_entry_and_the_person(public_keys: dict[str, str]) -> None:
    assert parse_error(dump(listing(public_keys, environments=["qa"]))) == {
        "error": "trust_list_invalid",
        "message": "approvers.yaml: approvers[0].environments[0] (principal 'alice'): Input should be 'dev' or 'prod'",
        "file": "approvers.yaml",
        "entry": "approvers[0].environments[0]",
    }


def test_an_approver_without_scope_is_named_with_the_plain_reason(public_keys: dict[str, str]) -> None:
    data = listing(public_keys)
    del data["approvers"][0]["environments"]
    assert parse_error(dump(data))["message"] == (
        "approvers.yaml: approvers[0] (principal 'alice'): "
        "an approver needs `stacks` or `environments` saying what they may approve"
    )


def test_further_errors_are_counted(public_keys: dict[str, str]) -> None:
    message = str(parse_error(dump(listing(public_keys, environments=["qa"], stacks=["a b"])))["message"])
    assert message.endswith(" (and 1 more)")


def test_an_entry_that_is_not_a_mapping_is_named() -> None:
    assert parse_error(dump({"version": 1, "approvers": ["alice"]}))["message"] == (
        "approvers.yaml: approvers[0]: Input should be a valid dictionary or instance of Approver"
    )


def test_approvers_that_are_not_a_list_are_named() -> None:
    assert parse_error(dump({"version": 1, "approvers": "alice"}))["message"] == (
        "approvers.yaml: approvers: Input should be a valid tuple"
    )


def test_a_required_count_out_of_range_names_its_pattern(public_keys: dict[str, str]) -> None:
    data = {**listing(public_keys), "required_approvals": {"aws-*": 0}}
    assert parse_error(dump(data))["message"] == (
        "approvers.yaml: required_approvals.aws-*: Input should be greater than or equal to 1"
    )


def test_an_unknown_top_level_key_is_named_as_written(public_keys: dict[str, str]) -> None:
    assert parse_error(dump({**listing(public_keys), "Xtra": 1}))["message"] == (
        "approvers.yaml: Xtra: Extra inputs are not permitted"
    )


# --- keys -----------------------------------------------------------------------------------------------------------
def test_a_key_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^a key is one line: 'keytype base64 \[comment\]'$"):
        SshPublicKey.parse(42)


def test_an_unsupported_key_type_is_named_shortly_with_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"^unsupported key type") as caught:
        SshPublicKey.parse("x" * 50 + " AAAA")
    assert str(caught.value) == (
        f"unsupported key type {'x' * 40!r}; use one of ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, "
        "ecdsa-sha2-nistp521, sk-ecdsa-sha2-nistp256@openssh.com, sk-ssh-ed25519@openssh.com, ssh-ed25519, ssh-rsa"
    )


def test_a_key_blob_of_only_its_type_is_read() -> None:
    assert SshPublicKey.parse(key_line(string(b"ssh-ed25519"))).keytype == "ssh-ed25519"


def test_a_key_blob_whose_length_overruns_its_data_is_refused() -> None:
    overrun = (len(b"ssh-ed25519") + 1).to_bytes(4, "big") + b"ssh-ed25519"
    with pytest.raises(ValueError, match="is not a ssh-ed25519 public key"):
        SshPublicKey.parse(key_line(overrun))


def test_a_key_blob_naming_its_type_in_other_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match=r"public key$") as caught:
        SshPublicKey.parse(key_line(string("ssh-ed25519\u00e9".encode())))
    assert str(caught.value) == "the ssh-ed25519 key's base64 data is not a ssh-ed25519 public key"


def test_a_key_blob_with_characters_outside_base64_is_refused(public_keys: dict[str, str]) -> None:
    keytype, blob = public_keys["alice"].split()[:2]
    with pytest.raises(ValueError, match="is not a ssh-ed25519 public key"):
        SshPublicKey.parse(f"{keytype} {blob[:8]}*{blob[8:]}")


def test_a_key_blob_of_exactly_the_size_limit_is_read() -> None:
    raw = string(b"ssh-ed25519")
    raw += string(b"\0" * (_MAX_KEY_BLOB * 3 // 4 - len(raw) - 4))
    assert len(base64.b64encode(raw)) == _MAX_KEY_BLOB
    assert SshPublicKey.parse(key_line(raw)).keytype == "ssh-ed25519"


def test_a_key_blob_over_the_size_limit_is_refused() -> None:
    raw = string(b"ssh-ed25519")
    raw += string(b"\0" * (_MAX_KEY_BLOB * 3 // 4 - len(raw)))
    with pytest.raises(ValueError, match="is not a ssh-ed25519 public key"):
        SshPublicKey.parse(key_line(raw))


def test_a_comment_of_several_words_is_dropped(public_keys: dict[str, str]) -> None:
    key = SshPublicKey.parse(public_keys["alice"] + " laptop of alice")
    assert str(key) == " ".join(public_keys["alice"].split()[:2])


def test_only_a_space_separates_the_key_from_its_comment(public_keys: dict[str, str]) -> None:
    keytype, blob = public_keys["alice"].split()[:2]
    with pytest.raises(ValueError, match="is not a ssh-ed25519 public key"):
        SshPublicKey.parse(f"{keytype} {blob}\tcomment")


# --- lookups --------------------------------------------------------------------------------------------------------
@pytest.fixture
def trust(write_trust: WriteTrust, public_keys: dict[str, str]) -> TrustList:
    return TrustList.load(
        write_trust(
            [
                {"principal": "alice", "roles": ["approver"], "environments": ["dev"], "keys": [public_keys["alice"]]},
                {"principal": "bob", "roles": ["admin"], "keys": [public_keys["bob"]]},
            ]
        )
    )


def test_a_key_names_its_owner(trust: TrustList, public_keys: dict[str, str]) -> None:
    assert trust.principal_for_key(SshPublicKey.parse(public_keys["bob"])) == "bob"


def test_an_unlisted_key_names_nobody(trust: TrustList, public_keys: dict[str, str]) -> None:
    assert trust.principal_for_key(SshPublicKey.parse(public_keys["mallory"])) is None


def test_an_unlisted_name_is_nobody(trust: TrustList) -> None:
    assert trust.approver("zed") is None


def test_a_signature_by_an_unlisted_key_names_the_trust_list(
    trust: TrustList, ssh_keys: dict[str, Path], write_trust: WriteTrust
) -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify_signed(trust, MESSAGE, ssh.sign(MESSAGE, ssh_keys["mallory"]), "aws-dev", "dev")
    assert caught.value.details == {"file": trust.source}


def test_a_signer_without_the_role_is_refused_with_who_what_and_where(
    trust: TrustList, ssh_keys: dict[str, Path]
) -> None:
    with pytest.raises(ApprovalInvalid) as caught:
        verify_signed(trust, MESSAGE, ssh.sign(MESSAGE, ssh_keys["bob"]), "aws-dev", "dev", Role.APPROVER)
    assert caught.value.details == {"principal": "bob", "stack": "aws-dev", "role": "approver"}


# --- the N-person rule ----------------------------------------------------------------------------------------------
def test_production_needs_two_approvers_by_default() -> None:
    assert required_approvals((), "aws-prod", "prod") == 2


def test_other_environments_need_one_approver_by_default() -> None:
    assert required_approvals((), "aws-dev", "dev") == 1


def test_the_first_matching_pattern_sets_the_count() -> None:
    rules = (("gcp-*", 3), ("*-dev", 2), ("*", 1))
    assert [required_approvals(rules, s, "dev") for s in ("gcp-dev", "aws-dev", "aws-qa")] == [3, 2, 1]


def test_the_trust_lists_counts_apply_to_its_stacks(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    path = write_trust([{"principal": "alice", "roles": ["admin"], "keys": [public_keys["alice"]]}])
    path.write_text(path.read_text() + "required_approvals:\n  aws-dev: 3\n")
    assert TrustList.load(path).required_approvals("aws-dev", "dev") == 3


def test_a_principal_listed_twice_names_the_second_entry(public_keys: dict[str, str]) -> None:
    data = listing(public_keys)
    data["approvers"].append({**data["approvers"][0], "principal": "Alice", "keys": [public_keys["bob"]]})
    assert parse_error(dump(data)) == {
        "error": "trust_list_invalid",
        "message": "approvers.yaml: approvers[1] lists principal 'alice' again (first at approvers[0])",
        "file": "approvers.yaml",
        "entry": "approvers[1]",
    }


def test_a_key_listed_for_two_people_names_both(public_keys: dict[str, str]) -> None:
    data = listing(public_keys)
    data["approvers"].append({**data["approvers"][0], "principal": "bob"})
    assert parse_error(dump(data)) == {
        "error": "trust_list_invalid",
        "message": "approvers.yaml: approvers[1] (bob) reuses the ssh-ed25519 key of approvers[0] (alice)",
        "file": "approvers.yaml",
        "entry": "approvers[1]",
    }


def test_a_long_principal_is_named_cut_short(public_keys: dict[str, str]) -> None:
    name = "a" * 70
    message = str(parse_error(dump(listing(public_keys, principal=name, environments=["qa"])))["message"])
    assert f" (principal '{'a' * 60}'): " in message


def test_production_stacks_need_two_approvers_when_the_list_sets_no_count(trust: TrustList) -> None:
    assert trust.required_approvals("aws-prod", "prod") == 2


def test_a_fifo_in_place_of_the_trust_list_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "approvers.yaml"
    os.mkfifo(fifo)
    with pytest.raises(TrustListInvalid, match="not a regular file") as refused:
        TrustList.load(fifo)
    assert refused.value.details == {"file": str(fifo)}
