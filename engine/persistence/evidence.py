"""Content-addressed store for evidence files (佐证材料).

Files are copied in under their sha256 before the database transaction that
refers to them; a failed transaction leaves at worst an unreferenced blob,
never a row pointing at nothing. Identical files are stored once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import BadFile
from ..domain.osreason import os_reason
from ..domain.text import Bilingual

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

    def unusable(self, exc: OSError) -> BadFile:
        """The store's own folder cannot take files: a setting to fix, not a file the user attached.

        Raised before any database transaction starts, so the progress report
        that wanted the file is not recorded either.
        """
        reason = exc.strerror or type(exc).__name__
        if self.root.exists() and not self.root.is_dir():
            reason_zh, reason_en = "这是一个文件，不是文件夹", "it is a file, not a folder"
        else:
            reason_zh, reason_en = os_reason(exc).zh, reason
        return BadFile(
            self.root,
            Bilingual(
                f"佐证材料文件夹无法使用（{reason_zh}）；请将 DUBAN_EVIDENCE_DIR 设为可写的文件夹",
                f"the evidence folder cannot be used ({reason_en}); "
                "set DUBAN_EVIDENCE_DIR to a folder duban may write to",
            ),
        )

    def ready(self) -> None:
        """Create the store's folder, or refuse with one line that names it and the setting."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not self.root.is_dir():
                raise NotADirectoryError(20, "Not a directory", str(self.root))
        except OSError as exc:
            raise self.unusable(exc) from None

    def put(self, source: Path) -> StoredFile:
        if not source.is_file():
            raise BadFile(source, Bilingual("要附上的文件不存在；请检查路径", "no such file to attach"))
        self.ready()
        digest = hashlib.sha256()
        size = 0
        try:
            import tempfile  # here: every command builds a store, few put a file in it (tempfile loads shutil)

            fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        except OSError as exc:
            raise self.unusable(exc) from None
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            target = self.path_of(digest.hexdigest())
            try:
                target.parent.mkdir(exist_ok=True)
            except OSError as exc:
                raise self.unusable(exc) from None
            if target.exists():
                os.unlink(tmp_name)
            else:
                os.replace(tmp_name, target)
        except BaseException as exc:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            if not isinstance(exc, OSError):
                raise
            why = os_reason(exc)
            raise BadFile(
                source,
                Bilingual(
                    f"无法复制到佐证材料库（{why.zh}）；请检查该文件和 DUBAN_EVIDENCE_DIR 文件夹",
                    f"cannot copy it into the evidence store ({why.en})",
                ),
            ) from None
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
