"""Units of work: one transaction per call, run in a worker thread so the event loop never
waits on SQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
AFTER_COMMIT = "after_commit"


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Call ``hook`` on the event loop once the unit of work run by ``Database.run`` has
    committed (nothing happens for sessions that ``Database.run`` did not open)."""
    hooks = session.info.get(AFTER_COMMIT)
    if hooks is not None and hook not in hooks:
        hooks.append(hook)


class Database:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def run_sync(self, work: Callable[[Session], T]) -> T:
        """``work`` in one transaction, committed when it returns, rolled back if it raises."""
        with self.sessions() as session:
            result = work(session)
            session.commit()
            return result

    async def run(self, work: Callable[[Session], T]) -> T:
        """``run_sync`` in a worker thread, then the session's after-commit hooks."""
        hooks: list[Callable[[], None]] = []

        def call() -> T:
            with self.sessions() as session:
                session.info[AFTER_COMMIT] = hooks
                result = work(session)
                session.commit()
                return result

        result = await anyio.to_thread.run_sync(call)
        for hook in hooks:
            hook()
        return result
