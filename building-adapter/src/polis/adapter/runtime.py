"""Process-wide settings of a running adapter (``python -m polis.adapter run``)."""

from __future__ import annotations

import gc

# A polling adapter has thousands of objects in flight at any moment (a request per device:
# coroutines, futures, frames) and frees almost everything else by reference counting.
# CPython's default threshold (700 allocations) runs a young collection every few requests,
# each walking everything in flight: a tenth of the adapter's CPU at 100,000 points/s.
# Every 50,000 allocations, the same walk costs a seventieth as much; cyclic garbage (rare:
# mostly the tracebacks of failed requests) is kept a little longer.
YOUNG_COLLECTION_THRESHOLD = 50_000


def tune_garbage_collection() -> None:
    """Collect the young generation every ``YOUNG_COLLECTION_THRESHOLD`` allocations;
    the older generations keep their thresholds."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
