"""The pull-request view of a scan: findings limited to what changed since a revision, and every
change that could exempt code (inline ignores, the configuration, the baseline, rule files), so a
pull request cannot exempt itself unseen."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import posixpath
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from .config import CONFIG_NAMES
from .discovery import SKIP_DIRS, kind_of
from .gitdiff import ChangeSet, FileChange, GitError, git
from .model import DiffScope, ExemptionChange, Finding, ScanResult
from .suppress import inline_ignores

MAX_DIFF_LINES = 200


TERRAFORM_CODE = ("terraform", "terraform-json")  # kinds that hold resources
TERRAFORM_INPUTS = (*TERRAFORM_CODE, "tfvars")


def is_terraform(path: str) -> bool:
    return kind_of(posixpath.basename(path)) in TERRAFORM_INPUTS


def scope_paths(changes: ChangeSet, requested: Sequence[str], siblings: Sequence[str] = ()) -> list[str]:
    """Changed files still present that soc2lint reads and that lie under a requested path, and
    the `siblings` there (unchanged Terraform files of changed modules)."""
    roots = [Path(p).resolve() for p in requested if p != "-"]
    chosen = []
    for path in [c.path for c in changes.present()] + list(siblings):
        if kind_of(posixpath.basename(path)) is None:
            continue
        if SKIP_DIRS.intersection(path.split("/")[:-1]):
            continue
        absolute = changes.root / path
        if any(absolute == root or root in absolute.parents for root in roots):
            chosen.append(str(absolute))
    return chosen


def siblings(changes: ChangeSet) -> list[str]:
    """Unchanged Terraform files in directories where a Terraform file was added, changed, renamed
    or deleted: the change can make their resources fail (a variable default, a deleted
    account-wide setting)."""
    directories = {posixpath.dirname(p) for c in changes.files.values()
                   for p in (c.path, c.old_path) if p and is_terraform(p)}
    found = []
    for directory in sorted(directories):
        folder = changes.root / directory
        if not folder.is_dir() or SKIP_DIRS.intersection(directory.split("/")):
            continue
        for entry in sorted(folder.iterdir()):
            path = posixpath.join(directory, entry.name) if directory else entry.name
            if (entry.is_file() and kind_of(entry.name) in TERRAFORM_CODE
                    and path not in changes.files):
                found.append(path)
    return found


def restrict(result: ScanResult, changes: ChangeSet, lines_only: bool,
             exemptions: Sequence[ExemptionChange] = (), config_ref: str | None = None,
             new_elsewhere: Iterable[Finding] = ()) -> ScanResult:
    """The result seen through the change: findings in changed files (or, with `lines_only`,
    whose block or module call overlaps a changed line), the failures `new_elsewhere` (in
    unchanged files of a changed module, new since the base), and the problems of changed files."""
    changed = {c.path: c for c in changes.present()}
    new = {id(f) for f in new_elsewhere}

    def kept(finding: Finding) -> bool:
        if id(finding) in new:
            return True
        entity = finding.entity
        places = [(entity.path, entity.span)] + [(r.path, r.span) for r in entity.related]
        return any(path in changed and (not lines_only or changed[path].touches(span.line, span.end_line))
                   for path, span in places)

    scanned = set(result.files)
    findings = tuple(f for f in result.findings if kept(f))
    scope = DiffScope(changes.base, changes.commit, tuple(p for p in result.files if p in changed),
                      tuple(sorted(c.path for c in changes.files.values() if c.status == "deleted")),
                      lines_only, tuple(exemptions), config_ref,
                      tuple(sorted({f.path for f in findings if id(f) in new})))
    return dataclasses.replace(
        result, findings=findings, files=scope.files,
        notifications=tuple(n for n in result.notifications if n.path in changed or n.path not in scanned),
        skipped=tuple(s for s in result.skipped if s[0] in changed), diff=scope)


def exemption_changes(changes: ChangeSet, today: datetime.date, baselines: Iterable[str] = (),
                      rules_dirs: Iterable[str] = ()) -> list[ExemptionChange]:
    """Ignores added or removed, and changes to configuration, baseline and rule files.

    `baselines` and `rules_dirs` are repository-relative paths."""
    baselines = set(baselines)
    rules_dirs = [d.rstrip("/") + "/" for d in rules_dirs]
    found: list[ExemptionChange] = []
    with_ignores = _files_with_ignores(changes)
    for path, change in sorted(changes.files.items()):
        name = posixpath.basename(path)
        if name in CONFIG_NAMES or name == "pyproject.toml":
            found.extend(_config_change(changes, change))
        elif path in baselines or change.old_path in baselines:
            found.extend(_baseline_change(changes, change))
        elif any(path.startswith(d) for d in rules_dirs):
            found.append(ExemptionChange("rules", _verb(change), path, None,
                                         f"rule file {_verb(change)}"))
        elif kind_of(name) is not None and change.status != "deleted":
            found.extend(_ignore_changes(changes, change, today, with_ignores))
    return found


def _verb(change: FileChange) -> str:
    return {"added": "added", "deleted": "removed"}.get(change.status, "changed")


def _new_text(changes: ChangeSet, change: FileChange) -> str | None:
    if change.status == "deleted":
        return None
    try:
        return (changes.root / change.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _files_with_ignores(changes: ChangeSet) -> set[str]:
    """Base paths whose old text holds an ignore: one `git grep` instead of one read per file."""
    old = [c.old_path for c in changes.files.values()
           if c.old_path and kind_of(posixpath.basename(c.old_path))]
    if not old:
        return set()
    try:
        out = git(changes.root, "grep", "-l", "-F", "soc2lint:ignore", changes.commit, "--", *old)
    except GitError:  # exits 1 when nothing matches
        return set()
    return {line.split(":", 1)[1] for line in out.splitlines() if ":" in line}


def _ignore_changes(changes: ChangeSet, change: FileChange, today: datetime.date,
                    with_ignores: set[str]) -> list[ExemptionChange]:
    text = _new_text(changes, change) or ""
    old_text = changes.old_text(change) if change.old_path in with_ignores else ""
    if "soc2lint:ignore" not in text and not old_text:
        return []

    new = inline_ignores(change.path, text, today)
    old = inline_ignores(change.old_path or change.path, old_text or "", today)
    return ([ExemptionChange("inline", "added", i.path, i.span.line, _describe(i))
             for i in _unmatched(new, old)]
            + [ExemptionChange("inline", "removed", i.path, i.span.line, _describe(i))
               for i in _unmatched(old, new)])


def _unmatched(ignores: list, others: list) -> list:
    """The ignores with no counterpart (same rules, justification and expiry) among `others`."""
    def key(ignore) -> tuple:
        return ignore.rules, ignore.justification, ignore.expires

    left = Counter(map(key, others))
    unmatched = []
    for ignore in ignores:
        if left[key(ignore)] > 0:
            left[key(ignore)] -= 1
        else:
            unmatched.append(ignore)
    return unmatched


def _describe(ignore) -> str:
    text = f"soc2lint:ignore {', '.join(ignore.rules) or '(no rule)'}"
    if ignore.expires:
        text += f" expires={ignore.expires}"
    return text + (f" -- {ignore.justification}" if ignore.justification
                   else " (no justification: it does not apply)")


def _config_change(changes: ChangeSet, change: FileChange) -> list[ExemptionChange]:
    old = _settings(change.old_path, changes.old_text(change))
    new = _settings(change.path, _new_text(changes, change))
    if old == new:
        return []  # a pyproject.toml changed outside [tool.soc2lint]
    before = f"{change.old_path or change.path} (base {changes.commit[:12]})"
    after = change.path if change.status != "deleted" else "/dev/null"
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), before, after,
                                     lineterm="", n=2))
    return [ExemptionChange("config", _verb(change), change.path, None,
                            f"configuration {_verb(change)}", _cap(diff))]


def _settings(path: str | None, text: str | None) -> str:
    """The soc2lint settings in a configuration file: all of it, or pyproject's [tool.soc2lint]."""
    if not text or not path:
        return ""
    if posixpath.basename(path) != "pyproject.toml":
        return text
    kept, inside = [], False
    for line in text.splitlines():
        header = line.strip().startswith("[")
        if header:
            inside = line.strip().lstrip("[").startswith("tool.soc2lint")
        if inside:
            kept.append(line)
    return "\n".join(kept) + ("\n" if kept else "")


def _baseline_change(changes: ChangeSet, change: FileChange) -> list[ExemptionChange]:
    old = _baseline_entries(changes.old_text(change))
    new = _baseline_entries(_new_text(changes, change))
    added, removed = sorted(new - old), sorted(old - new)
    if not added and not removed:
        return []
    lines = [f"+ {' '.join(e)}" for e in added] + [f"- {' '.join(e)}" for e in removed]
    return [ExemptionChange("baseline", _verb(change), change.path, None,
                            f"baseline: {len(added)} known failure(s) added, {len(removed)} removed",
                            _cap(lines))]


def _baseline_entries(text: str | None) -> set[tuple[str, ...]]:
    try:
        data = json.loads(text) if text else {}
        return {(e["rule"], e["path"], e["address"]) for e in data.get("findings", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {("(unreadable baseline)", "", "")}


def _cap(lines: list[str]) -> str:
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)
