from __future__ import annotations

import pytest

from components.aws.cidr import carve_subnets, validate_vpc_cidr
from components.aws.storage import s3_bucket_name
from components.naming import dns_label, physical_name
from components.tags import common_tags, gcp_labels


def test_carving_spreads_public_then_private_without_overlap() -> None:
    public, private = carve_subnets("10.0.0.0/16", 3)
    assert public == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert private == ["10.0.96.0/19", "10.0.128.0/19", "10.0.160.0/19"]


def test_carving_with_an_explicit_prefix() -> None:
    public, private = carve_subnets("192.168.0.0/24", 2, subnet_prefix=28)
    assert public == ["192.168.0.0/28", "192.168.0.16/28"]
    assert private == ["192.168.0.32/28", "192.168.0.48/28"]


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("8.8.0.0/16", "not inside a private RFC 1918 block"),
        ("10.0.0.0/8", "must be /16 to /24"),
        ("10.0.0.0/25", "must be /16 to /24"),
        ("10.0.0.1/16", "not a valid network"),
        ("fd00::/48", "IPv4"),
        ("not-a-cidr", "not a valid network"),
    ],
)
def test_bad_vpc_blocks_are_rejected(cidr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_vpc_cidr(cidr)


def test_a_layout_that_does_not_fit_is_rejected() -> None:
    with pytest.raises(ValueError, match="smaller than /28"):
        carve_subnets("192.168.1.0/24", 6, 29)
    with pytest.raises(ValueError, match="holds 4 subnets"):
        carve_subnets("10.0.0.0/24", 3, subnet_prefix=26)


def test_physical_names_are_stable_valid_and_bounded() -> None:
    long = physical_name("datamcp", "aws-prod", "x" * 80, max_len=64)
    assert len(long) == 64
    assert long == physical_name("datamcp", "aws-prod", "x" * 80, max_len=64)
    assert long != physical_name("datamcp", "aws-prod", "x" * 81, max_len=64)
    assert physical_name("a b", "c/d", max_len=20) == "a-b-c-d"
    with pytest.raises(ValueError, match="non-empty"):
        physical_name("a", "", max_len=10)


@pytest.mark.parametrize("parts", [("DataMCP", "aws_prod", "Logs"), ("9lives", "x"), ("a" * 40, "b" * 40)])
def test_bucket_names_follow_s3_rules(parts: tuple[str, ...]) -> None:
    name = s3_bucket_name(*parts)
    assert 3 <= len(name) <= 63
    assert name == name.lower()
    assert name[0].isalpha() and name[-1].isalnum()
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert dns_label(*parts) == name


def test_common_tags_and_reserved_keys() -> None:
    assert common_tags("datamcp", "aws-dev", {"team": "data"}) == {
        "project": "datamcp",
        "stack": "aws-dev",
        "managed-by": "datamcp",
        "team": "data",
    }
    with pytest.raises(ValueError, match="cannot be overridden"):
        common_tags("datamcp", "aws-dev", {"managed-by": "someone-else"})


def test_gcp_labels_are_lowercase_and_safe() -> None:
    assert gcp_labels({"managed-by": "datamcp", "Team": "Data Eng"}) == {"managed-by": "datamcp", "team": "data_eng"}
