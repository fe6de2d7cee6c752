"""An excitation over a bad network: the real adapter and the simulated library's controller
over BACnet/IP, reached through a link (``link.py``) that delivers the adapter's replies late
or resets every connection. On loopback the adapter answers a write in milliseconds; the link
makes its answer late as a congested network does, while the adapter and the controller work
throughout.

- a write that lands but whose answer comes after the deadline is held as written, and
  relinquished when the run is stopped;
- a relinquish the adapter does not confirm is retried until it lands, and the zone counts as
  held (apply mode refused, no new run) meanwhile;
- one that never lands is given up at the last write's expiry, logged, and the adapter's own
  expiry returns the zone to its schedule;
- at shutdown the retries last the grace and no longer.

The clock runs at 240×: a 60-minute step and its slot (the write's duration) last 19 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from polis.common.influx import InfluxStore
from polis.optimizer.config import optimizer_view
from polis.optimizer.domain import Building, Neighbourhood
from polis.optimizer.excitation.adapter import AdapterSetpoints
from polis.optimizer.excitation.registry import AlreadyRunning, Excitations
from polis.optimizer.excitation.runner import ExcitationRun, State
from polis.optimizer.planner import Mode, Planner

from .library import Library, simulated_library, until
from .link import Link

pytestmark = [pytest.mark.integration, pytest.mark.influx, pytest.mark.slow]

SPEED = 240.0
EXCITATION = {"amplitude_k": 1.0, "step_minutes": 60, "max_days": 2}
DEADLINE_S = 0.5
LATE_S = 2.0  # the adapter's replies, when late: well past the deadline


@dataclass
class Stack:
    library: Library
    link: Link
    excitations: Excitations

    async def start(self) -> ExcitationRun:
        (run,) = await self.excitations.start("library", ["reading-room"], 0.5)
        return run

    def entries(self, action: str, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.library.audit()[since:] if e["action"] == action]


def _never(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    raise AssertionError("nothing is planned in this test")


@pytest.fixture
async def stack(influx_store: InfluxStore, tmp_path: Path) -> AsyncIterator[Stack]:
    async with simulated_library(influx_store, tmp_path / "adapter", SPEED, EXCITATION) as lib:
        link = await Link(lib.adapter_port).start()
        setpoints = AdapterSetpoints(link.address, deadline_s=DEADLINE_S)
        planner = Planner(_never)
        planner.set_mode("library", Mode.DRY_RUN)
        excitations = Excitations(
            optimizer_view(lib.catalogue), planner, setpoints, lib.clock, stop_wait_s=1.0
        )
        try:
            yield Stack(lib, link, excitations)
        finally:
            link.restore()
            await excitations.close()
            await setpoints.close()
            await link.close()


def _relinquished_by_us(entries: list[dict[str, Any]], reason: str) -> bool:
    return any(e["requested_by"] == "polis-excitation" and e["reason"] == reason for e in entries)


@pytest.mark.timeout(180)
async def test_a_write_answered_after_the_deadline_is_relinquished(stack: Stack) -> None:
    lib = stack.library
    run = await stack.start()  # the setpoint read answered in time
    stack.link.reply_delay_s = LATE_S
    await until(lambda: len(stack.entries("write")) == 1, "the first step reaches the adapter")
    (write,) = stack.entries("write")
    assert write["status"] == "applied"  # the adapter wrote it and the controller took it
    assert lib.commanded() == write["value"]
    await until(lambda: run.progress.refused == 1, "the write's deadline passes")
    assert run.progress.written == 0
    assert run.progress.message == "step 1: unreachable: it may have landed"
    assert run.held_until is not None  # held all the same

    stack.link.reply_delay_s = 0.0
    await until(lambda: stack.link.idle, "the late reply is delivered")
    (stopped,) = await stack.excitations.stop("library", reason="stopped by the test")
    assert stopped.state is State.STOPPED
    assert stopped.progress.message == "stopped by the test; setpoint relinquished"
    assert stopped.held_until is None
    assert _relinquished_by_us(stack.entries("relinquish"), "stopped by the test")
    assert lib.commanded() is None  # the controller follows its own schedule again


@pytest.mark.timeout(180)
async def test_an_unconfirmed_relinquish_is_retried_until_it_lands(stack: Stack) -> None:
    lib = stack.library
    run = await stack.start()
    await until(lambda: run.progress.written == 1, "the first step is written")
    stack.link.cut()
    (stopped,) = await stack.excitations.stop("library", reason="stopped by the test")
    assert stopped.state is State.STOPPED
    assert stopped.held_until is not None
    assert stopped.progress.message.startswith(
        "stopped by the test; relinquish not confirmed, retrying until "
    )
    assert lib.commanded() is not None
    # the zone is still ours: the optimizer may not apply plans to it, nor a run start there
    blocked = stack.excitations.blocks_apply("library")
    assert blocked is not None
    assert "has not confirmed its relinquish" in blocked
    with pytest.raises(AlreadyRunning, match="has not had its relinquish confirmed"):
        await stack.excitations.start("library", ["reading-room"], 0.5)

    stack.link.restore()
    await until(lambda: run.held_until is None, "a retry lands")
    assert run.progress.message.startswith("stopped by the test; setpoint relinquished at attempt")
    assert _relinquished_by_us(stack.entries("relinquish"), "stopped by the test")
    assert lib.commanded() is None
    assert stack.excitations.blocks_apply("library") is None


@pytest.mark.timeout(180)
async def test_a_relinquish_that_never_lands_is_left_to_the_adapters_expiry(
    stack: Stack,
) -> None:
    lib = stack.library
    run = await stack.start()
    await until(lambda: run.progress.written == 1, "the first step is written")
    written = len(lib.audit())
    stack.link.cut()
    with capture_logs() as logs:
        await stack.excitations.stop("library", reason="stopped by the test")
        expiry = run.held_until
        assert expiry is not None
        await until(lambda: run.held_until is None, "the write's expiry")
    assert lib.clock.now() >= expiry
    assert run.progress.message == (
        f"stopped by the test; relinquish never confirmed: the adapter's expiry at "
        f"{expiry:%Y-%m-%d %H:%M} UTC ended the command"
    )
    errors = [e for e in logs if e["event"] == "excitation relinquish never confirmed"]
    assert len(errors) == 1
    assert errors[0]["log_level"] == "error"
    assert errors[0]["attempts"] >= 3  # retried with back-off until then
    # the adapter's own expiry returned the zone to its schedule; nothing of ours reached it
    await until(lambda: lib.commanded() is None, "the adapter's expiry")
    # the adapter audits a relinquish once it has read the point back, just after the device
    # let go of it
    await until(lambda: bool(stack.entries("relinquish", since=written)), "the expiry audited")
    relinquished = stack.entries("relinquish", since=written)
    assert [(e["requested_by"], e["reason"]) for e in relinquished] == [("adapter", "expired")]
    assert stack.excitations.blocks_apply("library") is None


@pytest.mark.timeout(180)
async def test_at_shutdown_the_retries_last_the_grace(stack: Stack) -> None:
    run = await stack.start()
    await until(lambda: run.progress.written == 1, "the first step is written")
    stack.link.cut()
    await stack.excitations.close(grace_s=1.0)
    assert run.state is State.STOPPED
    assert run.held_until is not None  # may be in force: the adapter's expiry ends it
    assert run.progress.message.startswith(
        "optimizer stopped; relinquish never confirmed: the adapter's expiry at "
    )
    assert run.progress.message.endswith(" ends the command")
