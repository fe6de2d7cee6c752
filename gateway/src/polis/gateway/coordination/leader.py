"""Work that runs once per deployment, on whichever replica holds the leader lease.

Every replica runs a ``Leadership``: it tries to take or renew the lease every third of its
lifetime. While held, the leader's jobs run, each on its own period; when the lease is lost
(or cannot be renewed in time), they stop before another replica can take over. A replica
that shuts down releases the lease, so the next takes over without waiting for it to expire.

Jobs: the plan watcher (``plan.updated``), housekeeping of the coordination tables, alarm
evaluation with its baseline expectations, and the alarm e-mail outbox
(``polis.gateway.alarm_wiring``). Each must tolerate a rare second run after a handover: the
plan watcher compares-and-sets the plan versions it announces; an alarm round is written only
while its replica holds the lease in the term the round started in, checked under a lock on
the lease row in the round's own transaction; mails are sent under claims.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from polis.common.logging import get_logger
from polis.gateway.coordination.lease import Lease

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]


class Leadership:
    def __init__(self, lease: Lease, jobs: list[Job]) -> None:
        self._lease = lease
        self._jobs = jobs
        self._renew_s = lease.ttl_s / 3
        # Monotonic instant until which this replica knows it holds the lease: measured from
        # before the renewal was sent, so it never outlasts the row's own expiry.
        self._valid_until = float("-inf")
        self._tasks: list[asyncio.Task[None]] = []
        self.term: int | None = None

    def holds(self) -> bool:
        return time.monotonic() < self._valid_until

    async def _renew(self) -> None:
        sent = time.monotonic()
        try:
            held = await anyio.to_thread.run_sync(self._lease.acquire)
        except SQLAlchemyError:
            log.warning("leader lease unreachable", lease=self._lease.name)
            held = None
        if held is None:
            self._valid_until = float("-inf")
            if self.term is not None:
                log.info("leadership lost", lease=self._lease.name, term=self.term)
                self.term = None
            return
        self._valid_until = sent + self._lease.ttl_s
        if self.term != held.term:
            log.info("leadership taken", lease=self._lease.name, term=held.term)
            self.term = held.term

    async def _run_job(self, job: Job) -> None:
        while True:
            if self.holds():
                try:
                    await job.run()
                except Exception:  # keep the job; one bad round must not end it
                    log.exception("leader job failed", job=job.name)
            await asyncio.sleep(job.interval_s)

    def _start_jobs(self) -> None:
        self._tasks = [asyncio.create_task(self._run_job(job), name=job.name) for job in self._jobs]

    async def _stop_jobs(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def run(self) -> None:
        try:
            while True:
                await self._renew()
                if self.holds() and not self._tasks:
                    self._start_jobs()
                elif not self.holds() and self._tasks:
                    await self._stop_jobs()
                await asyncio.sleep(self._renew_s)
        finally:
            await self._stop_jobs()
            if self.term is not None:
                try:
                    await anyio.to_thread.run_sync(self._lease.release)
                except SQLAlchemyError:
                    log.warning("leader lease not released; it expires by itself")
