"""Every change since a diff base that could exempt code: inline ignores added or removed, and
changes to the configuration, the baseline and rule files, so a pull request cannot exempt itself
unseen."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import posixpath
import re
from collections import Counter
from collections.abc import Iterable

from .config import CONFIG_NAMES
from .discovery import display, kind_of
from .gitdiff import ChangeSet, FileChange, GitError, git
from .model import ExemptionChange
from .suppress import inline_ignores

MAX_DIFF_LINES = 200
_TOOL_TABLE = re.compile(r"^\s*\[\[?\s*tool\.soc2lint\s*[.\]]")
_GREP_CHUNK = 500  # paths per `git grep`, well under the command-line limit


def exemption_changes(changes: ChangeSet, today: datetime.date, baselines: Iterable[str] = (),
                      rules_dirs: Iterable[str] = (), configs: Iterable[str] = ()) -> list[ExemptionChange]:
    """Ignores added or removed, and changes to configuration, baseline and rule files.

    `baselines`, `rules_dirs` and `configs` (configuration files named on the command line) are
    repository-relative paths."""
    baselines, configs = set(baselines), set(configs)
    rules_dirs = [d.rstrip("/") + "/" for d in rules_dirs]
    found: list[ExemptionChange] = []
    with_ignores = _files_with_ignores(changes)
    for path, change in sorted(changes.files.items()):
        name = posixpath.basename(path)
        if name in CONFIG_NAMES or name == "pyproject.toml" or path in configs:
            found.extend(_config_change(changes, change))
        elif path in baselines or change.old_path in baselines:
            found.extend(_baseline_change(changes, change))
        elif any(path.startswith(d) for d in rules_dirs):
            found.append(ExemptionChange("rules", _verb(change), path, None,
                                         f"rule file {_verb(change)}"))
        elif kind_of(name) is not None and change.status != "deleted":
            found.extend(_ignore_changes(changes, change, today, with_ignores))
    return [dataclasses.replace(c, path=display(c.path)) for c in found]


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
    """Base paths whose old text holds an ignore: `git grep` instead of one read per file."""
    old = sorted(c.old_path for c in changes.files.values()
                 if c.old_path and kind_of(posixpath.basename(c.old_path)))
    found: set[str] = set()
    for start in range(0, len(old), _GREP_CHUNK):
        try:
            out = git(changes.root, "--literal-pathspecs", "grep", "-l", "-z", "-F", "soc2lint:ignore",
                      changes.commit, "--", *old[start:start + _GREP_CHUNK])
        except GitError:  # exits 1 when nothing matches
            continue
        found.update(item.split(":", 1)[1] for item in out.split("\0") if ":" in item)
    return found


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
        if line.strip().startswith("["):
            inside = bool(_TOOL_TABLE.match(line))
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
