"""Content-addressed store for evidence files (佐证材料).

Files are copied in under their sha256 before the database transaction that
refers to them; a failed transaction leaves at worst an unreferenced blob,
never a row pointing at nothing. Identical files are stored once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .domain.errors import BadFile

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int
    original_name: str


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> StoredFile:
        if not source.is_file():
            raise BadFile(source, "no such file to attach")
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            target = self.path_of(digest.hexdigest())
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                os.unlink(tmp_name)
            else:
                os.replace(tmp_name, target)
        except OSError as exc:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise BadFile(source, f"cannot copy it into the evidence store ({exc.strerror or exc})") from None
        return StoredFile(digest.hexdigest(), size, source.name)

    def verify(self, sha256: str) -> bool:
        path = self.path_of(sha256)
        if not path.exists():
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256
