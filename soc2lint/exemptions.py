"""Every change since a diff base that could exempt code: inline ignores added or removed, and
changes to the configuration (compared as parsed settings, however written), the baseline and
rule files, so a pull request cannot exempt itself unseen. The failures such changes exempt are
found in `soc2lint.exempted`."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import posixpath
from collections import Counter
from collections.abc import Iterable

from .config import CONFIG_NAMES, Config, ConfigError, declares_settings, load_config
from .discovery import chart_of_template, display, kind_of, leaves
from .gitdiff import ChangeSet, FileChange, GitError, git
from .model import ExemptionChange
from .suppress import inline_ignores

MAX_DIFF_LINES = 200
_GREP_CHUNK = 500  # paths per `git grep`, well under the command-line limit


def exemption_changes(changes: ChangeSet, today: datetime.date, baselines: Iterable[str] = (),
                      rules_dirs: Iterable[str] = (), configs: Iterable[str] = (),
                      effective: tuple[Config, Config] | None = None) -> list[ExemptionChange]:
    """Ignores added or removed, and changes to configuration, baseline and rule files.

    `baselines`, `rules_dirs` and `configs` (configuration files named on the command line) are
    repository-relative paths; `effective` is the configuration the run would use at the base and
    now, compared as settings (a file the run does not use is compared on its own)."""
    baselines, configs = set(baselines), set(configs)
    rules_dirs = [d.rstrip("/") + "/" for d in rules_dirs]
    found: list[ExemptionChange] = []
    used: set[str] = set()
    if effective is not None:
        found.extend(_effective_change(changes, *effective))
        used = {changes.relative(c.path) for c in effective if c.path}
    with_ignores = _files_with_ignores(changes)
    for path, change in sorted(changes.files.items()):
        name = posixpath.basename(path)
        if name in CONFIG_NAMES or name == "pyproject.toml" or path in configs:
            if path not in used and change.old_path not in used:
                found.extend(_config_change(changes, change))
        elif path in baselines or change.old_path in baselines:
            found.extend(_baseline_change(changes, change))
        elif any(path.startswith(d) for d in rules_dirs):
            found.append(ExemptionChange("rules", _verb(change), path, None,
                                         f"rule file {_verb(change)}"))
        elif _newly_skipped(changes, change):
            found.append(ExemptionChange("skipped", _verb(change), path, None, _SKIPPED))
        elif kind_of(name) is not None and change.status != "deleted":
            found.extend(_ignore_changes(changes, change, today, with_ignores))
    return [dataclasses.replace(c, path=display(c.path)) for c in found]


_SKIPPED = ("not scanned: a Helm chart template, YAML only once rendered (scan the output of "
            "`helm template`)")


def _newly_skipped(changes: ChangeSet, change: FileChange) -> bool:
    """A Chart.yaml added, or a YAML file added or moved into a chart's templates/: what was
    scanned at the base (or would be) is not any more."""
    if change.status not in ("added", "renamed"):
        return False
    location = changes.root / change.path
    if posixpath.basename(change.path) == "Chart.yaml":
        return True
    moved_in = change.old_path is None or chart_of_template(
        (changes.root / change.old_path).parent, changes.root) is None
    return (kind_of(location.name) == "yaml" and moved_in
            and chart_of_template(location.parent, changes.root) is not None)


def _verb(change: FileChange) -> str:
    return {"added": "added", "deleted": "removed"}.get(change.status, "changed")


def _new_text(changes: ChangeSet, change: FileChange) -> str | None:
    """The file now, read as the scan reads it (a leading byte-order mark dropped; nothing
    through a symbolic link that leaves the repository)."""
    path = changes.root / change.path
    if change.status == "deleted" or leaves(path, changes.root):
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _old_text(changes: ChangeSet, change: FileChange) -> str | None:
    text = changes.old_text(change)
    return text.removeprefix("\ufeff") if text else text


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
    old_text = _old_text(changes, change) if change.old_path in with_ignores else ""
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


def _effective_change(changes: ChangeSet, before: Config, after: Config) -> list[ExemptionChange]:
    """The configuration the run uses, at the base and now, compared setting by setting."""
    old, new = before.settings(changes.root), after.settings(changes.root)
    if old == new:
        return []
    old_name = changes.relative(before.path) or (str(before.path) if before.path else None)
    new_name = changes.relative(after.path) or (str(after.path) if after.path else None)
    verb = "added" if old_name is None else "removed" if new_name is None else "changed"
    moved = (f" (now read from {new_name}, was {old_name})"
             if verb == "changed" and old_name != new_name else "")
    return [ExemptionChange("config", verb, new_name or old_name or "", None,
                            f"configuration {verb}{moved}",
                            _settings_diff(changes, old, new, old_name, new_name))]


def _config_change(changes: ChangeSet, change: FileChange) -> list[ExemptionChange]:
    """A configuration file the run does not use, compared as settings on its own."""
    old = _settings(changes, change.old_path, _old_text(changes, change))
    new = _settings(changes, change.path if change.status != "deleted" else None,
                    _new_text(changes, change))
    if old == new:
        return []  # a pyproject.toml changed outside tool.soc2lint
    verb = "added" if not old else "removed" if not new else "changed"
    return [ExemptionChange("config", verb, change.path, None, f"configuration {verb}",
                            _settings_diff(changes, old, new, change.old_path or change.path,
                                           change.path if change.status != "deleted" else None))]


def _settings_diff(changes: ChangeSet, old: list[str], new: list[str], old_name: str | None,
                   new_name: str | None) -> str:
    before = f"{old_name or '(no configuration)'} (base {changes.commit[:12]})"
    after = new_name or "(no configuration)"
    return _cap(list(difflib.unified_diff(old, new, before, after, lineterm="", n=2)))


def _settings(changes: ChangeSet, path: str | None, text: str | None) -> list[str]:
    """The settings a configuration file holds, as `Config.settings` lines (none when it holds no
    soc2lint settings, one line naming the error when it cannot be read)."""
    if not text or not path:
        return []
    location = changes.root / path
    if not declares_settings(location, text):
        return []
    try:
        return load_config(location, text).settings(changes.root)
    except ConfigError as exc:
        return [f"(not a valid configuration: {str(exc).removeprefix(str(location) + ': ')})"]


def _baseline_change(changes: ChangeSet, change: FileChange) -> list[ExemptionChange]:
    old = _baseline_entries(_old_text(changes, change))
    new = _baseline_entries(_new_text(changes, change))
    added, removed = sorted(new - old), sorted(old - new)
    if not added and not removed:
        return []
    lines = [f"+ {' '.join(e)}" for e in added] + [f"- {' '.join(e)}" for e in removed]
    return [ExemptionChange("baseline", _verb(change), change.path, None,
                            f"baseline: {len(added)} known failure(s) added, {len(removed)} removed",
                            _cap(lines))]


def _baseline_entries(text: str | None) -> set[tuple[str, ...]]:
    """Each entry as every key that identifies a finding (instance and evaluating root too)."""
    try:
        data = json.loads(text) if text else {}
        return {(e["rule"], e["path"], e["address"],
                 *([f"[{e['instance_key']}]"] if e.get("instance_key") else []),
                 *([f"(from {e['context']})"] if e.get("context") else []))
                for e in data.get("findings", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {("(unreadable baseline)", "", "")}


def _cap(lines: list[str]) -> str:
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)
