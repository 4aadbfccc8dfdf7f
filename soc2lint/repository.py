"""The repository as one entity for repository rules: what they read and the file they point at.

A repository finding must name a file that exists in the repository (GitHub code scanning places
every result in a file), so the entity stands at its CODEOWNERS file when there is one, else at
the README at the top of the repository, else at the first file scanned in it, else (a change
scanned without its other files) at its first file in path order.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .codeowners import Codeowners
from .codeowners import parse as parse_codeowners
from .discovery import SKIP_DIRS
from .model import DictLocator, Entity, Span

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
    spans: dict = {}
    found = codeowners_file(top)
    if found:
        data["codeowners_file"] = found
        owners = read_codeowners(top, found)
        data["codeowners_problems"] = [{"line": p.line, "message": p.message} for p in owners.problems]
        spans = {("codeowners_problems", i): Span(p.line) for i, p in enumerate(owners.problems)}
        unowned = [f for f in _owned_kinds(top, scanned) if not owners.owners_of(f)]
        data["unowned_files"] = unowned
        data["unowned_sample"] = ", ".join(unowned[:5]) + (f" and {len(unowned) - 5} more"
                                                            if len(unowned) > 5 else "")
    path = place if display in ("", ".") else posixpath.join(display, place)
    return Entity("repository", "repository", "repository", f"repository:{display}", path,
                  Span(1), data, DictLocator(spans), label=f"repository '{display}'")


def read_codeowners(top: Path, name: str) -> Codeowners:
    """The repository's CODEOWNERS file parsed; an unreadable file has no rules."""
    try:
        text = (top / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return parse_codeowners(name, text)


def _owned_kinds(top: Path, scanned: Iterable[Path]) -> list[str]:
    """The files a code owner must review, relative to `top`: those the scan read in the
    repository and every workflow file."""
    inside = {p.relative_to(top).as_posix() for p in scanned if top in p.parents}
    workflows = top / ".github" / "workflows"
    with contextlib.suppress(OSError):
        inside.update(f".github/workflows/{e.name}" for e in os.scandir(workflows)
                      if e.name.endswith((".yml", ".yaml")) and e.is_file())
    return sorted(inside)


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
