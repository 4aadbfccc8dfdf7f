"""The pull-request view of a scan: what to scan for a change since a revision, and which findings
the change is answerable for.

A finding is in the change when its file changed (with `lines_only`: when its block, or the module
call that created it, holds a changed line), when it concerns a repository file that changed, or
when it fails now but did not fail at the base although the change can have caused it: in a file
of a changed Terraform module or of a module such a module calls, after a change to a variable
file, or (with `lines_only`) elsewhere in a changed file. The failures the change exempts
(`soc2lint.exempted`) are judged against the same evaluation of the base.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .discovery import SKIP_DIRS, TERRAFORM_CODE, TERRAFORM_KINDS, display, kind_of, leaves
from .exempted import DESELECTED, EXCLUDED, BaseView, Selection, base_view, exempted_failures
from .fingerprint import identity_parts
from .gitdiff import ChangeSet
from .model import DiffScope, ExemptionChange, Finding, Outcome, Rule, ScanResult
from .repository import repository_changed
from .scan import Policy

_LOCAL_SOURCE = re.compile(r'"?source"?\s*[=:]\s*"(\.{1,2}/[^"]*)"')


def is_terraform(path: str) -> bool:
    return kind_of(posixpath.basename(path)) in TERRAFORM_KINDS


def changed_modules(changes: ChangeSet) -> set[str]:
    """Directories where a Terraform file was added, changed, renamed or deleted."""
    return {posixpath.dirname(p) for c in changes.files.values() for p in (c.path, c.old_path)
            if p and is_terraform(p)}


def scan_paths(changes: ChangeSet, requested: Sequence[str]) -> list[str]:
    """What to scan for the change: the changed files soc2lint reads, the Terraform files of the
    changed modules and of the modules that call them (so that a module is evaluated as the full
    scan evaluates it), under the requested paths; a requested path that does not exist is kept
    for its error."""
    roots = [Path(p).resolve() for p in requested if p != "-"]
    modules = changed_modules(changes)
    wanted = [c.path for c in changes.present()]
    wanted += [p for d in sorted(modules | _callers(roots, changes.root, modules))
               for p in _terraform_files(changes.root, d) if p not in changes.files]
    chosen = [p for p in requested if p != "-" and not os.path.lexists(p)]
    for path in wanted:
        absolute = changes.root / path
        if (kind_of(posixpath.basename(path)) is not None
                and not SKIP_DIRS.intersection(path.split("/")[:-1])
                and any(absolute == root or root in absolute.parents for root in roots)):
            chosen.append(str(absolute))
    return chosen


def _terraform_files(root: Path, directory: str) -> list[str]:
    folder = root / directory
    if not folder.is_dir():
        return []
    return [posixpath.join(directory, e.name) if directory else e.name for e in sorted(folder.iterdir())
            if e.is_file() and kind_of(e.name) in TERRAFORM_CODE]


def _callers(roots: list[Path], top: Path, modules: set[str]) -> set[str]:
    """Directories under `roots` that call one of `modules` as a local module, transitively (read
    from the text: `source = "./..."` or `"../..."`)."""
    calls: dict[str, set[str]] = {}
    for root in roots:
        if root != top and top not in root.parents:
            continue
        for directory, names, files in os.walk(root):
            names[:] = sorted(n for n in names if n not in SKIP_DIRS)
            folder = Path(directory)
            here = folder.relative_to(top).as_posix() if folder != top else ""
            for name in files:
                if kind_of(name) not in TERRAFORM_CODE:
                    continue
                if leaves(folder / name, top):
                    continue
                try:
                    text = (folder / name).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                for source in _LOCAL_SOURCE.findall(text):
                    target = posixpath.normpath(posixpath.join(here, source.split("//")[0]))
                    calls.setdefault(here, set()).add("" if target == "." else target)
    found: set[str] = set()
    frontier = set(modules)
    while frontier:
        frontier = {d for d, targets in calls.items() if targets & frontier} - found - modules
        found |= frontier
    return found


@dataclass(frozen=True)
class ExemptionCheck:
    """What finding the failures a change exempts takes: the configuration's selection now and at
    the base, the failures only the base's selection would report (`deselected`, scanned now),
    the base's ignores and baseline, every rule either side selects, and whether a baseline
    file changed."""

    head: Selection
    base: Selection
    base_policy: Policy
    rules: tuple[Rule, ...]
    deselected: tuple[Finding, ...] = ()
    baseline_changed: bool = False


def restrict(result: ScanResult, changes: ChangeSet, lines_only: bool, rules: Sequence[Rule],
             var_files: Sequence[tuple[Path, Path | None]] = (), all_terraform: bool = False,
             exemptions: Sequence[ExemptionChange] = (), config_ref: str | None = None,
             check: ExemptionCheck | None = None) -> ScanResult:
    """The result seen through the change (see the module docstring); `all_terraform` when a
    variable file changed, which can change any root module."""
    changed = {display(c.path): c for c in changes.present()}
    touched = {display(p) for p in changes.files}
    modules = {display(m) for m in changed_modules(changes)}

    def direct(finding: Finding) -> bool:
        if finding.entity.framework == "repository":
            return repository_changed(changes)
        entity = finding.entity
        places = [(entity.path, entity.span)] + [(r.path, r.span) for r in entity.related]
        return any(path in changed and (not lines_only or changed[path].touches(span.line, span.end_line))
                   for path, span in places)

    def in_changed_module(finding: Finding) -> bool:
        if finding.entity.framework != "terraform":
            return False
        places = [finding.path, *(r.path for r in finding.entity.related)]
        directories = {posixpath.dirname(p) for p in places} | {finding.entity.context}
        return all_terraform or bool(directories & modules)

    def answerable(finding: Finding) -> bool:
        if finding.outcome is not Outcome.FAIL or finding.entity.framework == "repository":
            return False  # a repository finding answers to the files it reads (direct) only
        return (lines_only and finding.path in changed) or in_changed_module(finding)

    def exempt_candidate(finding: Finding) -> bool:
        """Exempted now, by something the change touched or in code it touched."""
        exemption = check.head.exemption(finding) if check else None
        if exemption is None:
            return False
        places = {finding.path, *(r.path for r in finding.entity.related)}
        return (exemption[0] in (DESELECTED, EXCLUDED) or bool(places & touched)
                or finding.suppression.path in touched or in_changed_module(finding)
                or (exemption[0] == "baseline" and check.baseline_changed))

    kept = [f for f in result.findings if direct(f)]
    candidates = [f for f in result.findings if not direct(f) and answerable(f)]
    exempt = [f for f in (*result.findings, *(check.deselected if check else ())) if exempt_candidate(f)]
    renamed = {display(c.old_path): display(c.path) for c in changes.files.values()
               if c.old_path and c.old_path != c.path}
    base = _base_view(changes, [*candidates, *exempt], check.rules if check else rules, var_files,
                      check.base_policy if check else Policy(), check.base if check else None, renamed)
    new = [f for f in candidates if identity_parts(f) not in base.failing]
    keep = {id(f) for f in (*kept, *new)}
    findings = tuple(f for f in result.findings if id(f) in keep)
    affected = tuple(sorted({f.path for f in new} - set(changed)))
    exempted = exempted_failures(exempt, check.head, base) if check else ()
    scope = DiffScope(changes.base, changes.commit, tuple(p for p in result.files if p in changed),
                      tuple(sorted(display(c.path) for c in changes.files.values() if c.status == "deleted")),
                      lines_only, tuple(exemptions), config_ref, affected, exempted)
    scanned = set(result.files)
    return dataclasses.replace(
        result, findings=findings, files=tuple(sorted({*scope.files, *affected})),
        notifications=tuple(n for n in result.notifications if n.path in changed or n.path not in scanned),
        skipped=tuple(s for s in result.skipped if s[0] in changed), diff=scope)


def _base_view(changes: ChangeSet, findings: list[Finding], rules: Sequence[Rule],
               var_files: Sequence[tuple[Path, Path | None]], policy: Policy,
               selection: Selection | None, renamed: dict[str, str]) -> BaseView:
    """The failures at the base of the root modules and files of `findings`, and those the base's
    configuration exempted, the base evaluated from the same root modules (same module calls and
    addresses) and files, with its own ignores and baseline."""
    if not findings:
        return BaseView()
    old_path = {display(c.path): c.old_path for c in changes.files.values() if c.old_path}
    roots = sorted({f.entity.context or posixpath.dirname(f.path) for f in findings
                    if f.entity.framework == "terraform"})
    others = sorted({old_path.get(f.path, f.path) for f in findings
                     if f.entity.framework not in ("terraform", "repository")})
    found = _findings_at_base(changes, rules, var_files, roots, others, policy)
    return base_view(found, selection or Selection(frozenset(r.id for r in rules)), renamed)


def _findings_at_base(changes: ChangeSet, rules: Sequence[Rule], var_files: Sequence, roots: list[str],
                      others: list[str], policy: Policy) -> list[Finding]:
    """The findings of the root modules `roots` and the files `others`, as they were at the base,
    marked with the base's ignores and baseline."""
    import tempfile

    from .discovery import discover
    from .gitdiff import GitError, materialise
    from .scan import scan

    with tempfile.TemporaryDirectory(prefix="soc2lint-base-") as folder:
        base = Path(folder).resolve()
        wanted = set(others)
        try:
            materialise(changes.root, changes.commit, base, lambda p: is_terraform(p) or p in wanted)
        except GitError:
            return []

        def at_base(path: Path | None) -> Path | None:
            try:
                moved = base / path.resolve().relative_to(changes.root) if path else None
            except ValueError:
                return path
            return moved if moved is not None and moved.exists() else path

        targets = [str(base / p) for root in roots for p in _terraform_files(base, root)]
        targets += [str(base / p) for p in others if (base / p).is_file()]
        if not targets:
            return []
        found = scan(discover(targets), rules, var_files=[(at_base(f), at_base(m)) for f, m in var_files],
                     policy=policy)
        return list(found.findings)


def var_files_changed(changes: ChangeSet, var_files: Iterable[tuple[Path, Path | None]]) -> bool:
    """Whether a variable file given on the command line or in the configuration changed."""
    return any(changes.relative(path) in changes.files for path, _ in var_files)
