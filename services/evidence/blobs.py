"""Where evidence bytes live: content-addressed blobs, one per SHA-256.

`BlobStore` is all the evidence store needs from storage; `LocalBlobStore`, a local
directory (SALESFLOW_EVIDENCE_DIR), is the default. An S3-compatible store implements the
same three methods: put as put_object keyed by the hash (skipped when head_object finds
it), open as a streamed get_object, exists as head_object. Nothing else is asked of a
store: blobs are never listed, overwritten or deleted by the service.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobMissing(LookupError):
    """A blob that a record points at is not in the store (lost or never written)."""


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed storage: a blob's name is the SHA-256 of its bytes.

    An implementation must make a blob visible only once it is complete, and must accept
    two writers racing on the same hash (the bytes are the same, so either may win).
    """

    async def put(self, sha256: str, source: BinaryIO) -> bool:
        """Stores the bytes read from source under sha256, unless they are stored already.

        The caller has hashed the bytes; source is read from its current position to the
        end. Returns True when the blob was written, False when it existed.
        """
        ...

    def open(self, sha256: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Yields the blob's bytes in chunks; raises BlobMissing if there is no such blob."""
        ...

    async def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        ...


class LocalBlobStore:
    """Blobs as files under root/ab/cd/<sha256>, written atomically.

    A blob is written to a temporary file in its final folder and renamed into place, so a
    reader never sees half a file and a crash leaves at most a stray temporary file.
    Writers racing on the same hash both succeed: the content is identical either way.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        """The file that holds (or would hold) a blob."""
        if not _SHA256.fullmatch(sha256):
            # The hash becomes a path; anything else could escape the root.
            raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, sha256: str, source: BinaryIO) -> bool:
        """Stores the bytes read from source under sha256, unless they are stored already."""
        return await asyncio.to_thread(self._put, self.path_for(sha256), source)

    def _put(self, target: Path, source: BinaryIO) -> bool:
        if target.exists():
            return False

        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as sink:
                shutil.copyfileobj(source, sink, CHUNK_SIZE)
                sink.flush()
                # The rename must not become visible before the bytes are on disk.
                os.fsync(sink.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

        logger.debug("blob stored sha256=%s", target.name)
        return True

    async def open(self, sha256: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Yields the blob's bytes in chunks; raises BlobMissing if there is no such blob."""
        path = self.path_for(sha256)
        try:
            reader = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as error:
            raise BlobMissing(f"blob {sha256} is not in {self.root}") from error

        try:
            while chunk := await asyncio.to_thread(reader.read, chunk_size):
                yield chunk
        finally:
            reader.close()

    async def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""
        return await asyncio.to_thread(self.path_for(sha256).exists)
