"""Foreign-device registration policy: renewal before the TTL, retries, failures reported."""

from __future__ import annotations

import asyncio

import pytest

from polis.adapter.bacnet.registration import (
    RESULT_OK,
    RESULT_REGISTER_NAK,
    ForeignRegistration,
    RegistrationOutcome,
)

pytestmark = pytest.mark.unit


class FakeLink:
    """Answers registrations from a script: a result code, or an exception to raise."""

    def __init__(self, *answers: int | BaseException) -> None:
        self.answers = list(answers)
        self.sent: list[int] = []
        self.states: list[bool] = []

    async def send_registration(self, ttl_s: int, timeout_s: float) -> int:
        self.sent.append(ttl_s)
        answer = self.answers.pop(0) if self.answers else RESULT_OK
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def set_registered(self, registered: bool) -> None:
        self.states.append(registered)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def registration(
    link: FakeLink, ttl_s: int = 300, clock: Clock | None = None
) -> tuple[ForeignRegistration, list[RegistrationOutcome]]:
    outcomes: list[RegistrationOutcome] = []
    reg = ForeignRegistration(
        link, "192.0.2.5:47808", ttl_s, outcomes.append, monotonic=clock or Clock()
    )
    return reg, outcomes


async def test_a_registration_is_renewed_when_half_its_ttl_has_passed() -> None:
    link = FakeLink()
    reg, outcomes = registration(link, ttl_s=300)
    outcome = await reg.attempt()
    assert outcome == RegistrationOutcome(ok=True, registered=True)
    assert outcomes == [outcome]
    assert reg.registered
    assert link.sent == [300]
    assert link.states == [True]
    assert reg.renew_after_s == 150


async def test_run_keeps_renewing_until_cancelled() -> None:
    link = FakeLink()
    reg, _ = registration(link, ttl_s=1)  # renews every 0.5 s
    task = asyncio.create_task(reg.run())
    await asyncio.sleep(1.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(link.sent) == 3
    assert link.states[0] is False  # broadcasts wait for the first registration


async def test_failures_are_reported_with_their_reason_and_retried_with_back_off() -> None:
    link = FakeLink(TimeoutError(), RESULT_REGISTER_NAK, OSError("unreachable"))
    reg, outcomes = registration(link)
    delays = []
    for _ in range(3):
        await reg.attempt()
        delays.append(reg.retry_after_s)
    assert [o.reason for o in outcomes] == ["timeout", "nak", "error"]
    assert not any(o.ok or o.registered for o in outcomes)
    assert delays == [1.0, 2.0, 4.0]
    assert reg.last_error is not None
    assert "unreachable" in reg.last_error
    reg.failures = 10
    assert reg.retry_after_s == 30.0  # capped
    await reg.attempt()
    assert reg.registered
    assert reg.failures == 0
    assert reg.last_error is None


async def test_a_failed_renewal_keeps_the_registration_until_its_ttl_has_run_out() -> None:
    clock = Clock()
    link = FakeLink(RESULT_OK, TimeoutError(), TimeoutError())
    reg, outcomes = registration(link, ttl_s=60, clock=clock)
    await reg.attempt()
    clock.now += 30  # the renewal, at half the TTL, gets no answer
    await reg.attempt()
    assert outcomes[-1] == RegistrationOutcome(ok=False, registered=True, reason="timeout")
    assert reg.registered
    clock.now += 31  # past the TTL: the BBMD has dropped us
    await reg.attempt()
    assert outcomes[-1] == RegistrationOutcome(ok=False, registered=False, reason="timeout")
    assert not reg.registered
    assert link.states == [True, False]


async def test_a_bbmd_that_forgot_us_triggers_an_immediate_registration() -> None:
    link = FakeLink()
    reg, outcomes = registration(link, ttl_s=600)
    task = asyncio.create_task(reg.run())
    assert await reg.wait_registered(1.0)
    reg.lost()
    assert outcomes[-1] == RegistrationOutcome(ok=False, registered=False, reason="lost")
    assert await reg.wait_registered(1.0)  # not after 300 s: at once
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(link.sent) == 2


async def test_waiting_for_a_registration_gives_up_after_its_timeout() -> None:
    link = FakeLink(TimeoutError())
    reg, _ = registration(link)
    await reg.attempt()
    assert not await reg.wait_registered(0.05)


def test_a_ttl_below_one_second_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 s"):
        ForeignRegistration(FakeLink(), "192.0.2.5:47808", 0)
