"""Process-wide guards that keep the window alive and responsive.

1. A defect of the binding: PySide6 6.12 on Python 3.11 returns `True` from `SignalInstance.emit()` without taking a
reference, so every signal emitted from Python drains one reference from `True`; after a few
hundred emits (task progress, filter changes) the interpreter aborts with "bool_dealloc:
deallocating True or False". Python 3.12+ makes bools immortal, which is exactly the remedy:
when a probe shows the leak, the refcounts of `True` and `False` are raised far beyond
anything a session can drain. Nothing changes on a binding without the defect.

2. The cycle collector: a full collection walks every tracked object while holding the GIL,
so one triggered by a worker's allocations stalls the window as well. Measured: 170-360 ms
with the startup heap alone, and twelve full collections of up to 2.4 s each (10 of 21 s)
while `list_findings` built 100,000 rows — which left no cyclic garbage at all. So bulk
work runs with automatic collection paused (`app.services.collection`), what survives it
(the rows) is frozen out of the collector's reach (`gc.freeze`), and the startup heap is
frozen once (`settle_heap`).
"""

from __future__ import annotations

import ctypes
import gc
import sys

from PySide6.QtCore import QObject, Signal

PIN = 1 << 40  # ~10^12 emits: never reached
_PROBES = 16


class _Probe(QObject):
    ping = Signal()


def emit_leaks_bools() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    leaked = sys.getrefcount(True) < before
    if leaked:  # give back what the probe itself took
        for _ in range(_PROBES):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return leaked


def pin_bools() -> bool:
    """Make True and False effectively immortal if (and only if) emit() leaks them."""
    if not emit_leaks_bools():
        return False
    for value in (True, False):
        refcount = ctypes.c_ssize_t.from_address(id(value))  # ob_refcnt leads every object
        refcount.value += PIN
    return True


_settled = False


def settle_heap() -> None:
    """Once per process, when the first window is built: collect, then freeze the startup
    heap, which lives all session."""
    global _settled
    if not _settled:
        _settled = True
        gc.collect()
        gc.freeze()


PINNED = pin_bools()
