"""Vector segments: immutable files of float32 rows, each checksummed in the catalog.

A write appends one new segment holding only the vectors it adds; a removal only deletes catalog rows
(the vectors become dead rows). When dead rows outweigh live ones, the live vectors are compacted into
one new segment. So a write costs what it changes, and a file, once written, is never modified: a
reader either sees it whole (size and BLAKE2b checked on load) or not at all.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import numpy as np

from qa.errors import IndexCorruptError
from qa.store.base import REBUILD_HINT

VECTOR_DIR = "vectors"
_CHUNK = 1 << 22  # bytes hashed per update: large enough to run at memory speed, small enough to stream


def checksum(data: bytes | memoryview | np.ndarray) -> str:
    """BLAKE2b-128 of the bytes (about 1 GB/s on one core here)."""
    h = hashlib.blake2b(digest_size=16)
    view = (
        memoryview(np.ascontiguousarray(data)).cast("B") if isinstance(data, np.ndarray) else memoryview(data)
    )
    for i in range(0, len(view), _CHUNK):
        h.update(view[i : i + _CHUNK])
    return h.hexdigest()


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(folder: Path, vectors: np.ndarray) -> tuple[str, int, int, str]:
    """Write ``vectors`` as a new segment file (temp name, fsync, rename); returns (name, rows, bytes, hash)."""
    directory = Path(folder) / VECTOR_DIR
    directory.mkdir(exist_ok=True)
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    name = f"seg-{uuid.uuid4().hex[:16]}.f32"
    tmp = directory / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(memoryview(data).cast("B"))
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, directory / name)
    fsync_dir(directory)
    return name, len(data), data.nbytes, checksum(data)


def load_segment(folder: Path, name: str, rows: int, nbytes: int, digest: str, dim: int) -> np.ndarray:
    """The (rows, dim) array of a segment, after checking its size and checksum."""
    path = Path(folder) / VECTOR_DIR / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise IndexCorruptError(f"the vector file {path} cannot be read ({exc}): {REBUILD_HINT}") from exc
    if len(data) != nbytes or nbytes != rows * dim * 4 or checksum(data) != digest:
        raise IndexCorruptError(
            f"the vector file {path} does not match its checksum, so it is corrupt: {REBUILD_HINT}"
        )
    return np.frombuffer(data, dtype=np.float32).reshape(rows, dim)


def read_rows(folder: Path, name: str, rows: int, dim: int, which: np.ndarray) -> np.ndarray:
    """Some rows of a segment without loading it (memory-mapped); used to copy vectors on re-index."""
    path = Path(folder) / VECTOR_DIR / name
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, dim))
    return np.array(mm[np.asarray(which, dtype=np.int64)])


def remove_unreferenced(folder: Path, keep: set[str]) -> int:
    """Delete segment files (and temp files of dead writers) that the catalog no longer references."""
    directory = Path(folder) / VECTOR_DIR
    n = 0
    if not directory.is_dir():
        return 0
    for p in directory.iterdir():
        if p.name not in keep:
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n
