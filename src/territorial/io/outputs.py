"""Output files a command writes beside a database change, checked before any work and
published only when the change commits.

:func:`check_output` refuses a path whose folder is missing, is not a folder or cannot be
written, naming the option, before a long computation. :class:`Staged` hands out
temporary names next to the targets (same folder and extension, so the rename that
publishes them stays in one file system and their format is still read from the
extension); :meth:`Staged.publish` renames them into place, :meth:`Staged.discard`
removes them when the command fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from territorial.errors import ValidationError


def check_output(path: Path | str, option: str) -> Path:
    """``path`` when a file can be written there; otherwise a ``ValidationError`` naming
    ``option``. Folders are never created: a missing one is more often a typo.

    >>> check_output("/nonexistent-folder/map.png", "--map")
    Traceback (most recent call last):
    ...
    territorial.errors.ValidationError: Cannot write --map /nonexistent-folder/map.png: \
folder /nonexistent-folder does not exist. Create the folder first, or choose another path.
    """
    path = Path(path)
    folder = path.parent
    elsewhere = "Choose another path."
    if not folder.exists():
        problem = f"folder {folder} does not exist"
        hint = "Create the folder first, or choose another path."
    elif not folder.is_dir():
        problem, hint = f"{folder} is not a folder", elsewhere
    elif path.is_dir():
        problem, hint = "it is a folder", "Name a file in it, or choose another path."
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem, hint = f"folder {folder} is not writable", elsewhere
    else:
        return path
    raise ValidationError(f"Cannot write {option} {path}: {problem}.", hint=hint)


class Staged:
    """Files written under temporary names, renamed into place together."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def path(self, target: Path | str) -> Path:
        """A temporary name next to ``target`` (same extension), published as ``target``."""
        target = Path(target)
        temporary = target.with_name(f".{target.stem}.{os.getpid()}.partial{target.suffix}")
        self._pending.append((temporary, target))
        return temporary

    def write(self, target: Path | str, option: str, writer: Callable[[Path], object]) -> None:
        """Call ``writer`` with a temporary name for ``target``; a failure to write is a
        ``ValidationError`` naming ``option``."""
        temporary = self.path(target)
        try:
            writer(temporary)
        except OSError as err:
            raise ValidationError(
                f"Cannot write {option} {target}: {err.strerror or err}.",
                hint="Nothing was written; free some space or choose another path.",
            ) from err

    def publish(self) -> list[Path]:
        """Rename every staged file to its target; returns the targets."""
        done = []
        for temporary, target in self._pending:
            temporary.replace(target)
            done.append(target)
        self._pending = []
        return done

    def discard(self) -> None:
        """Remove every staged file written so far."""
        for temporary, _target in self._pending:
            temporary.unlink(missing_ok=True)
        self._pending = []


__all__ = ["Staged", "check_output"]
