"""Background production of batches into a bounded queue.

Neo4j I/O (socket waits) and torch ops release the GIL, so one thread overlaps sampling,
fetching and an optional transform (e.g. tokenisation) with the training step. At most
``depth`` finished batches wait in memory; errors are re-raised in the consumer; leaving the
loop early stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END = object()


def prefetch(make: Callable[[T], R], items: Iterable[T], depth: int = 2
             ) -> Generator[R, None, None]:
    """``make(item)`` for each item, computed ``depth`` ahead in a daemon thread."""
    if depth <= 0:
        for item in items:
            yield make(item)
        return
    q: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if stop.is_set() or not put((True, make(item))):
                    return
            put((True, _END))
        except BaseException as exc:
            put((False, exc))

    thread = threading.Thread(target=work, name="lmgnn-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = q.get()
            if not ok:
                raise value  # type: ignore[misc]
            if value is _END:
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=30)
