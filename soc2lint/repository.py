"""The repository as one entity for repository rules: what they read and the file they point at.

A repository finding must name a file that exists in the repository (GitHub code scanning places
every result in a file), so the entity stands at its CODEOWNERS file when there is one, else at
the README at the top of the repository, else at the first file scanned in it, else (a change
scanned without its other files) at its first file in path order.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .discovery import SKIP_DIRS
from .model import Entity, Span

if TYPE_CHECKING:
    from .gitdiff import ChangeSet

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


def repository_changed(changes: ChangeSet) -> bool:
    """Whether a change touches a file that repository rules read (the file a repository
    finding stands at is only its anchor: touching it changes nothing)."""
    return any(p in changes.files for p in CODEOWNERS_LOCATIONS)


def codeowners_file(top: Path) -> str | None:
    """Where the repository's CODEOWNERS file is, in the order GitHub looks for it."""
    return next((name for name in CODEOWNERS_LOCATIONS if (top / name).is_file()), None)


def readme(top: Path) -> str | None:
    """The README at the top of the repository (README, README.md, readme.rst, ...)."""
    return next(iter(_files_at_top(top, lambda name: name.split(".")[0].lower() == "readme")), None)


def anchor(top: Path, scanned: Iterable[Path]) -> str | None:
    """The existing file, relative to `top`, that the repository's findings point at; `scanned`
    holds the real paths of the files the scan read."""
    inside = sorted(p.relative_to(top).as_posix() for p in scanned if top in p.parents)
    return codeowners_file(top) or readme(top) or next(iter(inside), None) or _first_file(top)


def repository_entity(display: str, top: Path, scanned: Iterable[Path]) -> Entity | None:
    """The repository `top` (shown as `display`) for repository-scope rules, standing at its
    anchor file; None when it holds no file at all."""
    place = anchor(top, scanned)
    if place is None:
        return None
    data: dict = {}
    found = codeowners_file(top)
    if found:
        data["codeowners_file"] = found
    path = place if display in ("", ".") else posixpath.join(display, place)
    return Entity("repository", "repository", "repository", f"repository:{display}", path,
                  Span(1), data, label=f"repository '{display}'")


def _files_at_top(top: Path, wanted: Callable[[str], bool]) -> list[str]:
    try:
        return sorted(e.name for e in top.iterdir() if e.is_file() and wanted(e.name))
    except OSError:
        return []


def _first_file(directory: Path, prefix: str = "") -> str | None:
    """The repository's first file in path order, outside the directories never scanned;
    symbolic links are not followed."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        if entry.is_file(follow_symlinks=False):
            return prefix + entry.name
        if entry.is_dir(follow_symlinks=False) and entry.name not in SKIP_DIRS:
            found = _first_file(Path(entry.path), f"{prefix}{entry.name}/")
            if found:
                return found
    return None
