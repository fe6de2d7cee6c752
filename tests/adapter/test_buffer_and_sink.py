from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from adapter.catalogues import one_bacnet_point
from polis.adapter.buffer import BufferFull, DurableBuffer
from polis.adapter.journal import PendingJournal
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.model import Quality, Reading
from polis.adapter.sink import ReadingEncoder, ReadingSink
from polis.common.influx import InfluxError

pytestmark = pytest.mark.integration


def test_buffer_keeps_order_and_depth(tmp_path: Path) -> None:
    buf = DurableBuffer(tmp_path / "b.sqlite", max_readings=10)
    first = buf.append(["a", "b"])
    buf.append(["c"])
    assert buf.depth == 3
    assert [b.lines for b in buf.oldest(5)] == [["a", "b"], ["c"]]
    buf.remove([first])
    assert buf.depth == 1
    with pytest.raises(BufferFull):
        buf.append(["x"] * 10)
    buf.close()
    reopened = DurableBuffer(tmp_path / "b.sqlite", max_readings=10)
    assert reopened.depth == 1
    assert reopened.oldest()[0].lines == ["c"]


def test_buffer_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    child = textwrap.dedent(
        f"""
        import sys, time
        from polis.adapter.buffer import DurableBuffer
        buf = DurableBuffer({str(path)!r}, max_readings=10**6)
        for i in range(200):
            buf.append([f"line {{i}} {{j}}" for j in range(10)])
        print("stored", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "stored"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    buf = DurableBuffer(path, max_readings=10**6)
    batches = buf.oldest(1000)
    assert buf.depth == 2000
    assert [b.lines[0] for b in batches] == [f"line {i} 0" for i in range(200)]


class FlakyWriter:
    """Refuses writes while ``down``; records what it accepted, in order."""

    def __init__(self) -> None:
        self.down = False
        self.lines: list[str] = []

    def write_lines(self, lines: Sequence[str], bucket: str | None = None) -> None:
        if self.down:
            raise InfluxError("connection refused")
        self.lines.extend(lines)


def encoder_for_one_point() -> tuple[ReadingEncoder, str]:
    ref = one_bacnet_point(
        {
            "id": "temp",
            "object": "analog-input,1",
            "quantity": "temperature",
            "unit": "degC",
        }
    )
    return ReadingEncoder([ref], {ref.point_id: "degC"}), ref.point_id


def test_encoder_writes_the_schema() -> None:
    encoder, pid = encoder_for_one_point()
    line = encoder.encode(Reading(pid, 21.5, "degC", Quality.STALE, 123))
    assert line == (
        "reading,building=school,device=bms,municipality=larissa,neighbourhood=kentro,"
        "point=larissa/school/bms/temp,quality=stale,quantity=temperature,unit=degC value=21.5 123"
    )


async def test_outage_buffers_and_replays_in_order(tmp_path: Path) -> None:
    encoder, pid = encoder_for_one_point()
    writer = FlakyWriter()
    metrics = AdapterMetrics()
    buf = DurableBuffer(tmp_path / "b.sqlite", max_readings=10_000)
    sink = ReadingSink(encoder, writer, buf, metrics, batch_size=7)

    def submit(start: int, n: int) -> None:
        sink.submit(
            [Reading(pid, float(i), "degC", Quality.GOOD, i) for i in range(start, start + n)]
        )

    submit(0, 10)
    assert await sink.flush()
    writer.down = True
    submit(10, 20)
    assert not await sink.flush()
    submit(30, 5)
    assert not await sink.flush()
    assert buf.depth == 25
    assert metrics.buffer_depth._value.get() == 25
    writer.down = False
    submit(35, 5)
    assert await sink.flush()
    assert buf.depth == 0
    times = [int(line.rsplit(" ", 1)[1]) for line in writer.lines]
    assert times == list(range(40))


def test_journal_recovers_complete_lines_in_order(tmp_path: Path) -> None:
    journal = PendingJournal(tmp_path / "j")
    journal.append(["a 1", "b 2"])
    closed = journal.rotate()
    journal.append(["c 3"])
    # a write cut short by a kill: the line without its newline was never complete
    with (tmp_path / "j" / "pending-999999999999.log").open("w") as cut:
        cut.write("d 4\ne 5 partial")
    again = PendingJournal(tmp_path / "j")
    segments, lines = again.recover()
    assert lines == ["a 1", "b 2", "c 3", "d 4"]
    assert closed in segments
    PendingJournal.discard(segments)
    assert again.segments() == [again._path]
    again.close()
    assert again.segments() == []  # the empty current segment goes too


async def test_sink_journal_survives_a_kill_between_flushes(tmp_path: Path) -> None:
    encoder, pid = encoder_for_one_point()
    writer = FlakyWriter()
    buf = DurableBuffer(tmp_path / "b.sqlite", max_readings=10_000)
    journal = PendingJournal(tmp_path / "j")
    sink = ReadingSink(encoder, writer, buf, AdapterMetrics(), batch_size=4, journal=journal)

    def readings(start: int, n: int) -> list[Reading]:
        return [Reading(pid, float(i), "degC", Quality.GOOD, i) for i in range(start, start + n)]

    sink.submit(readings(0, 3))
    assert await sink.flush()
    writer.down = True
    sink.submit(readings(3, 3))
    assert not await sink.flush()  # 3..5 go to the buffer
    sink.submit(readings(6, 5))  # 6..10 only in memory and the journal, then the process dies
    buf.close()

    writer.down = False
    buf = DurableBuffer(tmp_path / "b.sqlite", max_readings=10_000)
    restarted = ReadingSink(
        encoder, writer, buf, AdapterMetrics(), journal=PendingJournal(tmp_path / "j")
    )
    assert buf.depth == 8  # the buffered three and the journaled five
    restarted.submit(readings(11, 2))
    assert await restarted.flush()
    times = [int(line.rsplit(" ", 1)[1]) for line in writer.lines]
    assert times == list(range(13))
    assert buf.depth == 0
