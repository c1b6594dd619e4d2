"""Cutting a dump into chunks of whole lines, and mapping work over them in order.

A chunk is the unit of parallel work and of ``resume``: a run of whole lines starting at a
known (decompressed) byte offset. A plain file is cut into byte ranges by seeking (the worker
reads its own range, so the parent never touches the bytes); a ``.gz``/``.bz2`` stream cannot
be seeked, so the parent decompresses it and ships each chunk's bytes. Decompression runs in a
reader thread ahead of the consumer (``zlib``/``bz2`` release the GIL, and so does SQLite in
the writer), so the single reader overlaps with the writer's inserts.

``ordered_map`` runs a function over the chunks in worker processes (``spawn``: the parent
holds a progress thread and a database connection, neither of which survives ``fork``) and
yields the results in chunk order, whatever order they finish in, with a bounded number in
flight. With one worker it runs in the calling process, through the same function.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from redsearcher.errors import InputFormatError
from redsearcher.world.ingest._io import _DECOMPRESSION_ERRORS, detect_compression, open_binary

T = TypeVar("T")
R = TypeVar("R")

_SKIP_BLOCK = 1 << 20
_READ_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole lines of ``path`` from decompressed byte ``offset``, ``size`` bytes long.

    ``data`` holds the bytes of a compressed file's chunk; ``None`` means "read the range
    from the plain file" (done by the worker).
    """

    path: str
    offset: int
    size: int
    data: bytes | None = None

    def read(self) -> bytes:
        """The chunk's bytes."""
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            return handle.read(self.size)


def iter_chunks(path: Path, chunk_bytes: int, offset: int = 0, line: int = 0) -> Iterator[Chunk]:
    """Chunks of ``path`` from decompressed byte ``offset`` (``line`` lines lie before it).

    Raises:
        InputFormatError: when decompression fails (naming the last line reached).
    """
    if detect_compression(path) is None:
        yield from _plain_chunks(path, chunk_bytes, offset)
    else:
        yield from _stream_chunks(path, chunk_bytes, offset, line)


def _plain_chunks(path: Path, chunk_bytes: int, offset: int) -> Iterator[Chunk]:
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = offset
        while start < size:
            handle.seek(min(start + chunk_bytes, size) - 1)
            handle.readline()  # to the end of the line that holds the cut
            end = handle.tell()
            yield Chunk(str(path), start, end - start)
            start = end


def _stream_chunks(path: Path, chunk_bytes: int, offset: int, line: int) -> Iterator[Chunk]:
    """Chunks of a compressed stream, cut exactly where a ``readline`` loop would cut them.

    A chunk is the shortest run of whole lines of at least ``chunk_bytes`` bytes (the last
    one may be shorter). The stream is read in large blocks and cut with ``bytes.find``: a
    ``readline`` per line costs the reader thread more than the decompression itself (the
    full dump has ~110M lines), and the reader is one of the serial parts of the ingest. The
    pieces of a chunk are kept as views of the blocks and joined once, so each byte is copied
    once (concatenating a block to the previous one's tail, then slicing, copied it ~2.5
    times and cost the reader thread 0.8 ns per byte, nearly as much as gzip).
    """
    handle = open_binary(path)
    position = offset
    block = max(chunk_bytes, _READ_BLOCK)
    pieces: list[memoryview] = []  # the current chunk so far: no cut fits in them
    pending = 0
    try:
        with handle:
            _skip(handle, offset, path, line)
            while True:
                try:
                    data = handle.read(block)
                except _DECOMPRESSION_ERRORS as err:
                    line += sum(bytes(p).count(b"\n") for p in pieces)
                    raise InputFormatError(
                        path, f"cannot decompress after line {line}: {err}", line=line + 1
                    ) from err
                if not data:
                    break
                view, start = memoryview(data), 0
                while (cut := start + max(chunk_bytes - pending, 1) - 1) < len(data):
                    end = data.find(b"\n", cut)
                    if end < 0:
                        break
                    pieces.append(view[start : end + 1])
                    chunk = b"".join(pieces)
                    line += chunk.count(b"\n")
                    yield Chunk(str(path), position, len(chunk), chunk)
                    position += len(chunk)
                    pieces, pending, start = [], 0, end + 1
                if start < len(data):
                    pieces.append(view[start:])
                    pending += len(data) - start
            if pieces:  # the last line has no newline
                chunk = b"".join(pieces)
                line += chunk.count(b"\n")
                yield Chunk(str(path), position, len(chunk), chunk)
    except _DECOMPRESSION_ERRORS as err:  # raised by close() on some truncated streams
        raise InputFormatError(path, f"cannot decompress: {err}", line=line) from err


def _skip(handle: Any, n: int, path: Path, line: int) -> None:
    """Read and drop ``n`` decompressed bytes (a resumed stream cannot seek)."""
    while n > 0:
        try:
            got = len(handle.read(min(n, _SKIP_BLOCK)))
        except _DECOMPRESSION_ERRORS as err:
            raise InputFormatError(path, f"cannot decompress: {err}", line=line) from err
        if got == 0:
            raise InputFormatError(path, "shorter than when the ingest began (resume)")
        n -= got


def split_lines(data: bytes) -> list[bytes]:
    """The lines of a chunk as ``readline`` cuts them (at newlines only, newline left off)."""
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``items`` in a background thread, ``depth`` ahead of the consumer.

    An exception of the producer is raised in the consumer at the point it happened.
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", None))
        except BaseException as err:  # handed to the consumer
            slots.put(("error", err))

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterator[T],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
) -> Iterator[R]:
    """``fn`` over ``items`` in ``workers`` processes, results in the order of ``items``.

    ``initializer(*initargs)`` prepares each process (or this one, with one worker).
    """
    if workers <= 1:
        initializer(*initargs)
        for item in items:
            yield fn(item)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=initializer, initargs=initargs
    )
    window: deque[Future[R]] = deque()
    failed: Exception | None = None
    try:
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except Exception as err:  # a bad input: first hand out what came before it
                failed = err
                break
            window.append(pool.submit(fn, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
        if failed is not None:
            raise failed
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
