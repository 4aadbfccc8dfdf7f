"""The pull-request side of a run (`--diff-base`): the changes since the base, the base's own
configuration, rule selection and policy, and the result seen through the change, with every
change that could exempt code and the failures it exempts."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import Config, ConfigError
from .discovery import Namer, discover
from .exempted import Selection
from .model import Finding, Notification, Outcome, Rule, ScanResult
from .pipeline import (
    ScanRequest,
    UsageError,
    choose_rules,
    config_at,
    first_path,
    inside_repository,
    load_project_config,
    policy_of,
    selection_of,
)
from .scan import Policy
from .suppress import today as current_date

if TYPE_CHECKING:
    from .gitdiff import ChangeSet


@dataclass(frozen=True)
class Change:
    """A pull-request run's changes, what to scan for them, and the base's configuration."""

    changes: ChangeSet
    paths: list[str]
    all_terraform: bool  # a variable file changed: any root module may have changed
    base: Config
    base_rules: tuple[Rule, ...]
    base_policy: Policy
    notes: tuple[Notification, ...] = ()
    baseline_changed: bool = False
    settings: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # `Config.settings`: base, now


def prepare(request: ScanRequest, config: Config, rules: Sequence[Rule], var_files: list,
            now: datetime.date) -> Change:
    """The changes since the diff base and the base's side. Every path is scanned when SARIF
    needs the full scan, a variable file changed, or the configuration or baseline changed (what
    they exempt can lie in any file)."""
    from .gitdiff import GitError, changes_since
    from .review import scan_paths, var_files_changed

    try:
        changes = changes_since(request.diff_base, first_path(request))
    except GitError as exc:
        raise UsageError(f"--diff-base: {exc}") from None
    notes: list[Notification] = []
    base, base_rules = _base_configuration(request, changes, rules, notes)
    try:
        base_policy = policy_of(request, base, Namer(), now, changes.commit, [])
    except UsageError as exc:  # a baseline the base could not read: judged without it
        notes.append(Notification(first_path(request).as_posix(), f"the baseline at the base "
                                  f"cannot be read ({exc}); it is compared as empty", "warning"))
        base_policy = policy_of(request, base, Namer(), now, None, [], with_baseline=False)
    all_terraform = var_files_changed(changes, var_files)
    baselines = {changes.relative(b) for b in (request.baseline, config.baseline, base.baseline)}
    baseline_changed = bool(baselines & set(changes.files))
    settings = (tuple(base.settings(changes.root)), tuple(config.settings(changes.root)))
    widen = request.full_scan or all_terraform or baseline_changed or settings[0] != settings[1]
    paths = list(request.paths) if widen else scan_paths(changes, request.paths)
    return Change(changes, paths, all_terraform, base, base_rules, base_policy, tuple(notes),
                  baseline_changed, settings)


def _base_configuration(request: ScanRequest, changes: ChangeSet, rules: Sequence[Rule],
                        notes: list[Notification]) -> tuple[Config, tuple[Rule, ...]]:
    """The configuration at the base and the rules it selects; when either cannot be read, the
    defaults and the rules selected now, with a warning."""
    try:
        base = inside_repository(request, config_at(request, changes.commit))
    except (ConfigError, UsageError) as exc:
        notes.append(Notification(first_path(request).as_posix(), f"the configuration at the base "
                                  f"cannot be read ({exc}); it is compared as empty", "warning"))
        base = Config()
    try:
        return base, tuple(choose_rules(request, base))
    except UsageError as exc:
        notes.append(Notification(first_path(request).as_posix(), f"the rules the base's "
                                  f"configuration selects cannot be told ({exc}); rules it "
                                  "deselects are not listed", "warning"))
        return base, tuple(rules)


def review(request: ScanRequest, config: Config, change: Change, result: ScanResult,
            rules: Sequence[Rule], var_files: list, selection: Selection, policy: Policy) -> ScanResult:
    """The result limited to the change, with the exemption changes it makes and the failures
    they exempt."""
    from .exemptions import exemption_changes
    from .review import ExemptionCheck, restrict

    changes = change.changes
    named = [changes.relative(p) for p in (request.baseline, config.baseline, request.config,
                                                  *config.rules_dirs, *request.rules_dirs)]
    baselines, configs, rules_dirs = named[:2], named[2:3], named[3:]
    exemptions = exemption_changes(changes, policy.today or current_date(),
                                   [b for b in baselines if b], [d for d in rules_dirs if d],
                                   [c for c in configs if c], _proposed(request, change.base, config))
    base = selection_of(change.base, change.base_rules, Namer())
    check = ExemptionCheck(selection, base, change.base_policy,
                           tuple({r.id: r for r in (*rules, *change.base_rules)}.values()),
                           _deselected(request, selection, base, change, var_files, policy),
                           change.baseline_changed)
    reported = restrict(result, changes, request.changed_lines_only, rules, var_files,
                        change.all_terraform, exemptions, request.config_ref, check)
    return dataclasses.replace(reported, notifications=(*reported.notifications, *change.notes))


def _proposed(request: ScanRequest, base: Config, config: Config) -> tuple[Config, Config] | None:
    """The configuration at the base and the one the change proposes (the working tree's, also
    when the run reads the base's), for the list of exemption changes; None to compare each
    changed configuration file on its own (no configuration, or the proposed one is invalid)."""
    if not request.use_config:
        return None
    if not request.config_ref:
        return base, config
    try:
        return base, load_project_config(dataclasses.replace(request, config_ref=None))
    except UsageError:
        return None


def _deselected(request: ScanRequest, head: Selection, base: Selection, change: Change,
                var_files: list, policy: Policy) -> tuple[Finding, ...]:
    """The failures the base's configuration would report that the configuration now does not
    run: rules it no longer selects, and (with every rule of the base) files it now excludes."""
    from .scan import scan

    def excludes(settings: tuple[str, ...]) -> list[str]:
        return [line for line in settings if line.startswith("exclude:")]

    dropped = [r for r in change.base_rules if r.id not in head.rule_ids]
    before, now = change.settings
    newly_excluded = head.excluded is not None and excludes(before) != excludes(now)
    if (not dropped and not newly_excluded) or "-" in request.paths:
        return ()
    found = discover(list(request.paths), exclude=base.excluded)
    done = scan(found, change.base_rules if newly_excluded else dropped, var_files=var_files,
                policy=policy)
    return tuple(f for f in done.findings if f.outcome is Outcome.FAIL)
