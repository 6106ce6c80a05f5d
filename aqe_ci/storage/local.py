"""The local filesystem backend (the embedded default, ``.qe-artifacts/``).

Writes go to a hidden temp file in the target directory, are fsynced, then published with
``os.link`` (create-only, atomic: fails if the name exists) or ``os.replace`` (overwrite). A killed
writer leaves at most a hidden ``.tmp-*`` file, which listings skip and cleanup removes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from aqe_ci.errors import BackendError, ObjectExists, ObjectMissing, UsageError
from aqe_ci.storage.base import Backend, ObjectInfo

TMP_PREFIX = ".tmp-"


class LocalBackend(Backend):
    kind = "local"

    def __init__(self, base_path: str | os.PathLike[str], *, create_dirs: bool = True, fsync: bool = True) -> None:
        self.root = Path(base_path).expanduser().absolute()
        self.create_dirs = create_dirs
        # fsync protects against power loss; a killed process never loses written data either way.
        # Only bulk fixtures (benchmarks, tests populating 10,000 runs) turn it off.
        self.fsync = fsync
        if not self.root.exists():
            if not create_dirs:
                raise BackendError(f"local store {self.root} does not exist",
                                   hint='create it, or set "local": {"create_dirs": true}')
        elif not self.root.is_dir():
            raise BackendError(f"local store {self.root} is not a directory")

    @property
    def location(self) -> str:
        return str(self.root)

    # -- names ------------------------------------------------------------------------------
    def _path(self, name: str) -> Path:
        segments = name.split("/")
        if (
            not name
            or not name.isascii()
            or "\\" in name
            or "\0" in name
            or any(s in ("", ".", "..") or len(s) > 255 for s in segments)
        ):
            raise UsageError(f"invalid object name {name[:80]!r}")
        return self.root.joinpath(*segments)

    # -- writes -----------------------------------------------------------------------------
    def _ensure_dir(self, path: Path) -> None:
        if not self.root.exists():
            if not self.create_dirs:
                raise BackendError(f"local store {self.root} does not exist")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendError(f"cannot create directory {path}: {exc.strerror}") from None

    def _publish(self, name: str, fill: callable, *, if_absent: bool) -> None:  # type: ignore[valid-type]
        target = self._path(name)
        for attempt in range(3):
            self._ensure_dir(target.parent)
            tmp = target.parent / f"{TMP_PREFIX}{secrets.token_hex(8)}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:
                if attempt == 2:
                    raise
                continue  # a concurrent cleanup removed the empty directory; recreate it
            except OSError as exc:
                raise BackendError(f"cannot write in {target.parent}: {exc.strerror}") from None
            try:
                with os.fdopen(fd, "wb") as out:
                    fill(out)
                    out.flush()
                    if self.fsync:
                        os.fsync(out.fileno())
                if if_absent:
                    try:
                        os.link(tmp, target)
                    except FileExistsError:
                        raise ObjectExists(f"object {name} already exists") from None
                else:
                    os.replace(tmp, target)
                if self.fsync:
                    self._fsync_dir(target.parent)
                return
            except OSError as exc:
                if isinstance(exc, FileExistsError):
                    raise
                raise BackendError(f"cannot write {target}: {exc.strerror or exc}") from None
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def put_file(self, name: str, path: Path, *, if_absent: bool = False) -> None:
        def fill(out: BinaryIO) -> None:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)

        self._publish(name, fill, if_absent=if_absent)

    def put_bytes(self, name: str, data: bytes, *, if_absent: bool = False) -> None:
        self._publish(name, lambda out: out.write(data), if_absent=if_absent)

    # -- reads ------------------------------------------------------------------------------
    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._path(name), "rb")  # noqa: SIM115
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissing(f"object {name} not found in {self.root}") from None
        except OSError as exc:
            raise BackendError(f"cannot read {self._path(name)}: {exc.strerror}") from None

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None) -> Iterator[ObjectInfo]:
        if limit is not None and limit <= 0:
            return
        dir_part, _, name_prefix = prefix.rpartition("/")
        start_dir = self._path(dir_part) if dir_part else self.root
        rel = f"{dir_part}/" if dir_part else ""
        count = 0
        for info in self._walk(start_dir, rel, name_prefix, start_after):
            yield info
            count += 1
            if limit is not None and count >= limit:
                return

    def _walk(self, directory: Path, rel: str, name_prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        try:
            with os.scandir(directory) as it:
                entries = [e for e in it if e.name.startswith(name_prefix) and not e.name.startswith(TMP_PREFIX)]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            if exc.errno == errno.EACCES:
                raise BackendError(f"cannot list {directory}: permission denied") from None
            raise
        keyed = []
        for e in entries:
            try:
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                continue
            keyed.append((rel + e.name + ("/" if is_dir else ""), is_dir, e))
        keyed.sort(key=lambda t: t[0])
        for full, is_dir, e in keyed:
            if is_dir:
                if start_after is not None and start_after >= full and not start_after.startswith(full):
                    continue
                yield from self._walk(Path(e.path), full, "", start_after)
            else:
                if start_after is not None and full <= start_after:
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                yield ObjectInfo(name=full, size=st.st_size, modified=st.st_mtime)

    # -- deletes ----------------------------------------------------------------------------
    def delete(self, name: str) -> None:
        path = self._path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BackendError(f"cannot delete {path}: {exc.strerror}") from None
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def remove_stale_temp_files(self, older_than_seconds: float, *, dry_run: bool = False) -> list[str]:
        """Delete ``.tmp-*`` files left by killed writers, and the folders left empty (cleanup calls this).

        ``dry_run`` lists the temp files and removes nothing. Folders are not objects and are not
        listed; a writer that finds its folder gone re-creates it (see :meth:`_publish`).
        """
        import time

        removed: list[str] = []
        cutoff = time.time() - older_than_seconds
        for dirpath, _dirs, files in os.walk(self.root, topdown=False):  # children before their parents
            path = Path(dirpath)
            for f in files:
                if f.startswith(TMP_PREFIX):
                    p = path / f
                    with contextlib.suppress(OSError):
                        if p.stat().st_mtime < cutoff:
                            if not dry_run:
                                p.unlink()
                            removed.append(str(p.relative_to(self.root)))
            if not dry_run and path != self.root:
                with contextlib.suppress(OSError):
                    path.rmdir()  # only succeeds when the folder is empty
        return removed
