"""A finished export as one uncompressed tar (POSIX pax), streamed: members in sorted path order under
`a3cp-export/`, each file read in blocks, so memory stays flat however large the export is.

Deterministic: mtime 0, owner 0/0 without names, mode 0644, so the same files give the same archive
(its data files are compressed already: npz, parquet; nothing is gained by compressing the tar).
Headers come from `tarfile.TarInfo.tobuf`; the stream is headers, data padded to 512-byte blocks, and
the two zero blocks that end a tar.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

ARCHIVE_ROOT = "a3cp-export"
ARCHIVE_MEDIA_TYPE = "application/x-tar"
BLOCK = 1 << 20


def _header(root: Path, path: Path) -> tuple[bytes, int]:
    info = tarfile.TarInfo(f"{ARCHIVE_ROOT}/{path.relative_to(root).as_posix()}")
    info.size = path.stat().st_size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.PAX_FORMAT), info.size


def stream_archive(root: Path) -> Iterator[bytes]:
    """The tar of every file under `root`, in chunks of at most BLOCK bytes (plus a header)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        header, size = _header(root, path)
        yield header
        with open(path, "rb") as handle:
            yield from iter(lambda: handle.read(BLOCK), b"")
        if size % tarfile.BLOCKSIZE:
            yield tarfile.NUL * (tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)
    yield tarfile.NUL * (2 * tarfile.BLOCKSIZE)
