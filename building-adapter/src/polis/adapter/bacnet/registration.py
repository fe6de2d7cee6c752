"""Foreign-device registration with a BBMD (BACnet Annex J.5.2), kept alive by Polis.

A BACnet/IP device on another subnet than its BBMD only sees broadcasts (Who-Is, I-Am,
Who-Is-Router-To-Network) while the BBMD holds it in its foreign device table, for the
time-to-live it registered with. :class:`ForeignRegistration` registers, renews when half the
TTL has passed (the other half leaves room for retries before the entry lapses), retries a
failed attempt with exponential back-off, logs every failure and reports each outcome to a
callback (the adapter's metrics). The BVLL messages themselves are sent by
:mod:`polis.adapter.bacnet.client` through the :class:`ForeignLink` it hands over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from polis.common.logging import get_logger

log = get_logger(__name__)

RESULT_OK = 0x0000
RESULT_REGISTER_NAK = 0x0030  # Register-Foreign-Device NAK: the BBMD refuses us
RESULT_DISTRIBUTE_NAK = 0x0060  # Distribute-Broadcast-To-Network NAK: it does not know us


class ForeignLink(Protocol):
    """The BVLL side: one registration request, and the state broadcasts depend on."""

    async def send_registration(self, ttl_s: int, timeout_s: float) -> int:
        """Send Register-Foreign-Device; the BBMD's result code, TimeoutError if none."""
        ...

    def set_registered(self, registered: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class RegistrationOutcome:
    """One attempt: ``ok``; ``registered`` whether the BBMD holds an entry for us now
    (a failed renewal leaves the last one until its TTL runs out); ``reason`` of a failure:
    ``timeout`` (no answer), ``nak`` (refused), ``lost`` (the BBMD refused a broadcast
    because it does not know us) or ``error`` (could not send)."""

    ok: bool
    registered: bool
    reason: str | None = None


class ForeignRegistration:
    def __init__(
        self,
        link: ForeignLink,
        bbmd: str,
        ttl_s: int,
        on_outcome: Callable[[RegistrationOutcome], None] | None = None,
        *,
        answer_timeout_s: float = 2.0,
        retry_min_s: float = 1.0,
        retry_max_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 1:
            raise ValueError(f"time-to-live must be at least 1 s (got {ttl_s})")
        self.link = link
        self.bbmd = bbmd
        self.ttl_s = ttl_s
        self.on_outcome = on_outcome
        self.answer_timeout_s = answer_timeout_s
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self._monotonic = monotonic
        self.registered = False
        self.failures = 0  # consecutive
        self.last_error: str | None = None
        self._expires_at = 0.0
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()

    @property
    def renew_after_s(self) -> float:
        return self.ttl_s / 2

    @property
    def retry_after_s(self) -> float:
        exponent = max(0, self.failures - 1)
        return float(min(self.retry_max_s, self.retry_min_s * 2**exponent))

    async def attempt(self) -> RegistrationOutcome:
        """Send one registration and take its outcome."""
        try:
            code = await self.link.send_registration(self.ttl_s, self.answer_timeout_s)
        except TimeoutError:
            return self._failed("timeout", f"no answer from BBMD {self.bbmd}")
        except OSError as error:
            return self._failed("error", f"cannot reach BBMD {self.bbmd}: {error}")
        if code != RESULT_OK:
            return self._failed("nak", f"BBMD {self.bbmd} refused the registration (0x{code:04x})")
        return self._succeeded()

    def _succeeded(self) -> RegistrationOutcome:
        if not self.registered or self.failures:
            log.info("registered as a foreign device", bbmd=self.bbmd, ttl_s=self.ttl_s)
        else:
            log.debug("foreign device registration renewed", bbmd=self.bbmd)
        self.failures = 0
        self.last_error = None
        self._expires_at = self._monotonic() + self.ttl_s
        self._set_registered(True)
        return self._report(RegistrationOutcome(ok=True, registered=True))

    def _failed(self, reason: str, message: str) -> RegistrationOutcome:
        self.failures += 1
        self.last_error = message
        if self.registered and self._monotonic() >= self._expires_at:
            log.error(
                "foreign device registration lapsed: broadcasts no longer reach the BBMD",
                bbmd=self.bbmd,
                error=message,
            )
            self._set_registered(False)
        log.warning(
            "foreign device registration failed",
            bbmd=self.bbmd,
            reason=reason,
            error=message,
            attempt=self.failures,
            retry_in_s=self.retry_after_s,
            registered=self.registered,
        )
        return self._report(
            RegistrationOutcome(ok=False, registered=self.registered, reason=reason)
        )

    def lost(self) -> None:
        """The BBMD refused to distribute a broadcast of ours: it holds no entry for us
        (restarted, or dropped us); register again at once."""
        self.failures += 1
        self.last_error = f"BBMD {self.bbmd} no longer holds our registration"
        log.warning("foreign device registration lost", bbmd=self.bbmd, error=self.last_error)
        self._set_registered(False)
        self._report(RegistrationOutcome(ok=False, registered=False, reason="lost"))
        self._wake.set()

    def _set_registered(self, registered: bool) -> None:
        if registered != self.registered:
            self.registered = registered
            self._changed.set()
        self.link.set_registered(registered)

    def _report(self, outcome: RegistrationOutcome) -> RegistrationOutcome:
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    async def run(self) -> None:
        """Register, then renew and retry until cancelled."""
        self.link.set_registered(False)
        while True:
            outcome = await self.attempt()
            delay = self.renew_after_s if outcome.ok else self.retry_after_s
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def wait_registered(self, timeout_s: float) -> bool:
        """True once registered, False if ``timeout_s`` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self.registered:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True
