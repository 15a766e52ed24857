"""Stack leases in a real PostgreSQL: one holder at a time, renewed while held, taken over after a crash, and
fenced: a holder that lost its lease cannot run its CLI."""

from __future__ import annotations

import threading
import time

import pytest

from engine.errors import LeaseLost, StackBusy
from engine.pgstore.database import Database
from engine.pgstore.leases import StackLeases

pytestmark = pytest.mark.slow


def test_one_holder_at_a_time_and_the_busy_error_names_the_holder(db: Database) -> None:
    leases = StackLeases(db, ttl=30)
    with leases.hold("aws-dev", operation_id="op-1", user="alice") as lease:
        lease.check()
        with pytest.raises(StackBusy) as busy, leases.hold("aws-dev", operation_id="op-2", user="bob"):
            pytest.fail("a second holder got the lease")
        assert busy.value.details["holder"]["operation_id"] == "op-1"
        assert "op-1 by alice" in busy.value.message
        with leases.hold("gcp-dev", operation_id="op-3", user="bob"):  # other stacks are not blocked
            pass
    with leases.hold("aws-dev", operation_id="op-2", user="bob") as second:
        assert second.token > lease.token  # fencing tokens only grow


def test_a_waiting_holder_gets_the_lease_when_it_is_released(db: Database) -> None:
    leases = StackLeases(db, ttl=30)
    got: list[int] = []
    with leases.hold("aws-dev", operation_id="op-1", user="alice"):
        waiter = threading.Thread(
            target=lambda: got.append(
                leases.hold("aws-dev", operation_id="op-2", user="bob", wait_seconds=10).__enter__().token
            )
        )
        waiter.start()
        time.sleep(0.6)
        assert not got
    waiter.join(10)
    assert got


def test_a_held_lease_is_renewed_past_its_time(db: Database) -> None:
    leases = StackLeases(db, ttl=2)
    with leases.hold("aws-dev", operation_id="op-1", user="alice") as lease:
        time.sleep(3.5)
        lease.check()
        with pytest.raises(StackBusy), leases.hold("aws-dev", operation_id="op-2", user="bob"):
            pass


def test_an_expired_lease_is_taken_over_and_its_holder_is_fenced_off(db: Database) -> None:
    taken: list[str] = []
    leases = StackLeases(db, ttl=30, on_takeover=taken.append)
    lost: list[bool] = []
    held = leases.hold("aws-dev", operation_id="op-crashed", user="alice", on_lost=lambda: lost.append(True))
    old = held.__enter__()  # a holder that stops renewing (as a crashed host does)
    db.execute("UPDATE leases SET expires_at = now() - interval '1 second' WHERE stack = 'aws-dev'")
    with leases.hold("aws-dev", operation_id="op-new", user="bob") as new:
        assert taken == ["op-crashed"]
        new.check()
        with pytest.raises(LeaseLost, match="expired or passed to another holder"):
            old.check()  # the fence: the old holder's CLI does not run
    held.__exit__(None, None, None)


def test_renewal_that_finds_the_lease_gone_reports_it_lost(db: Database) -> None:
    leases = StackLeases(db, ttl=2)
    lost = threading.Event()
    with leases.hold("aws-dev", operation_id="op-1", user="alice", on_lost=lost.set) as lease:
        db.execute("UPDATE leases SET token = token + 1000 WHERE stack = 'aws-dev'")  # someone else holds it now
        assert lost.wait(5)
        with pytest.raises(LeaseLost):
            lease.check()
