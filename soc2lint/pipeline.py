"""One scan from options to result: configuration, rules, discovery, ignores and baseline.

Shared by `soc2lint scan` and `soc2lint report`; options given on the command line win over the
configuration file. With a diff base, `pull_request` adds the view of the change. Problems with
the configuration, a rule file or the baseline raise UsageError (exit 2 in the CLI), naming the
file and the key.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import Config, ConfigError, find_config, load_config, path_matcher
from .discovery import Namer, discover
from .exempted import Selection
from .model import Notification, Rule, ScanResult, Severity
from .repository import repository_changed
from .scan import Policy
from .suppress import today as current_date


class UsageError(Exception):
    """A configuration, rule or baseline problem; the message names the file and the key."""


@dataclass(frozen=True)
class ScanRequest:
    """What the user asked for on the command line."""

    paths: tuple[str, ...] = (".",)
    config: str | None = None
    use_config: bool = True
    rules_dirs: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    only_rules: tuple[str, ...] = ()
    var_files: tuple[str, ...] = ()
    environment: str | None = None
    baseline: str | None = None
    today: datetime.date | None = None
    stdin_text: str | None = None
    stdin_name: str | None = None
    inline_ignores: bool = True
    diff_base: str | None = None  # report only what changed since this revision
    changed_lines_only: bool = False
    full_scan: bool = False  # scan every path even with diff_base (the SARIF needs it all)
    config_ref: str | None = None  # read the configuration and baseline as of this revision


@dataclass(frozen=True)
class ScanRun:
    """A finished scan with the configuration and rules it used; `reported` is what the run
    reports and counts (the findings in the change, with a diff base), `result` everything."""

    result: ScanResult
    config: Config
    config_name: str | None  # the configuration file's repository-relative name
    rules: tuple[Rule, ...]
    today: datetime.date
    reported: ScanResult | None = None
    empty: tuple[str, ...] = ()  # scanned directories that hold no input file

    @property
    def shown(self) -> ScanResult:
        return self.reported or self.result


def load_project_config(request: ScanRequest) -> Config:
    """The configuration file named, or the nearest one above the first path, or none."""
    if not request.use_config:
        return Config()
    try:
        if request.config_ref:
            return inside_repository(request, config_at(request, request.config_ref))
        if request.config:
            if not Path(request.config).is_file():
                raise UsageError(f"{request.config}: configuration file not found")
            return inside_repository(request, _load(request, Path(request.config)))
        start = next((p for p in request.paths if p != "-"), ".")
        top = Namer().repository(first_path(request))
        found = find_config(Path(start), top) if Path(start).exists() else None
        return inside_repository(request, _load(request, found)) if found else Config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _load(request: ScanRequest, path: Path) -> Config:
    """A configuration file, unless it is written in the scanned repository and is a symbolic
    link leading out of it (then nothing of its target is read)."""
    from .discovery import leaves, located, within

    top = Namer().repository(first_path(request))
    if within(located(path), top) and leaves(path, top):
        raise UsageError(f"{Namer().name(path, follow=False)}: the configuration file is a symbolic "
                         "link that leads outside the repository: not read")
    return load_config(path)


def inside_repository(request: ScanRequest, config: Config) -> Config:
    """The configuration, when none of its paths (and no rule file in its rule directories)
    leaves the scanned repository; a configuration file outside that repository is the user's own
    and may name any path."""
    from .discovery import leaves, located, within

    top = Namer().repository(first_path(request))
    if config.path is None or not within(located(config.path), top):
        return config
    for key, path in config.locations():
        if leaves(path, top):
            raise UsageError(f"{config.path}: {key}: the path leads outside the repository")
    for index, directory in enumerate(config.rules_dirs):
        for rule_file in sorted(Path(directory).rglob("*.y*ml")) if Path(directory).is_dir() else ():
            if leaves(rule_file, top):
                raise UsageError(f"{config.path}: rules_dirs[{index}]: "
                                 f"{Namer().name(rule_file, follow=False)} is a symbolic link that "
                                 "leads outside the repository")
    return config


def first_path(request: ScanRequest) -> Path:
    return Path(next((p for p in request.paths if p != "-"), "."))


def config_at(request: ScanRequest, ref: str) -> Config:
    """The configuration as of the revision `ref`: the file named, or the nearest one above the
    first path in that revision; none there means the defaults. Raises ConfigError."""
    from .config import CONFIG_NAMES, declares_settings

    if not request.use_config:
        return Config()
    root, _ = _ref(first_path(request).resolve(), ref)
    if request.config:
        candidates = [Path(request.config).resolve()]
    else:
        start = first_path(request).resolve()
        start = start if start.is_dir() else start.parent
        directories = [start, *start.parents]
        directories = directories[:directories.index(root) + 1] if root in directories else [start]
        candidates = [d / name for d in directories for name in (*CONFIG_NAMES, "pyproject.toml")]
    for candidate in candidates:
        text = read_at_ref(request, candidate, ref)
        if text is not None and declares_settings(candidate, text):
            return load_config(candidate, text)
    if request.config:
        raise UsageError(f"{request.config}: configuration file not found at {ref}")
    return Config()


@functools.lru_cache(maxsize=8)
def _ref(first: Path, ref: str) -> tuple[Path, str]:
    """The repository of the first path and the commit `ref` names in it."""
    from .gitdiff import GitError, repository_root, resolve

    try:
        root = repository_root(first)
        return root, resolve(root, ref)
    except GitError as exc:
        raise UsageError(f"--config-ref: {exc}") from None


def read_at_ref(request: ScanRequest, path: Path, ref: str) -> str | None:
    """A file's text as of the revision `ref`, or None when it is not there."""
    from .gitdiff import read_at

    root, commit = _ref(first_path(request).resolve(), ref)
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise UsageError(f"{path}: not in the repository {root}") from None
    return read_at(root, commit, relative)


def choose_rules(request: ScanRequest, config: Config | None = None,
                 only_enabled: bool = True) -> list[Rule]:
    """Bundled and extra rules, selected by the command line or else by the configuration."""
    config = config or Config()
    from .rules import RuleError, load_rules, nearest, select

    try:
        rules = load_rules([*config.rules_dirs, *(Path(d) for d in request.rules_dirs)])
    except RuleError as exc:
        raise UsageError(f"rule error: {exc}") from None
    named = {name: r for r in rules for name in (r.id, *r.aliases)}
    _check_ids(config, named)
    rules = [_with_severity(r, config.severity.get(r.id)) for r in rules]
    named = {name: r for r in rules for name in (r.id, *r.aliases)}
    only, criteria, tags = (_csv(request.only_rules), _csv(request.criteria), _csv(request.tags))
    places = ("--rule", "--criteria", "--tags")
    if not (only or criteria or tags):  # the command line wins over the configuration
        only, criteria, tags = (list(config.select_ids), list(config.select_criteria),
                                list(config.select_tags))
        places = tuple(f"{config.path}: select.{key}" for key in ("ids", "criteria", "tags"))
    criteria, tags = _known(rules, criteria, tags, places)
    if only:
        missing = [w for w in only if w not in named]
        if missing:
            raise UsageError(f"{places[0]}: no rule {', '.join(missing)}{nearest(missing[0], named)}; "
                             "`soc2lint rules` lists them")
        chosen = select(list({named[w].id: named[w] for w in only}.values()), criteria, tags,
                        only_enabled=False)
    else:
        enabled = {named[i].id for i in config.enable}
        disabled = {named[i].id for i in config.disable}
        rules = [dataclasses.replace(r, enabled=True) if r.id in enabled else r for r in rules
                 if r.id not in disabled]
        chosen = select(rules, criteria, tags, only_enabled=only_enabled)
    if not chosen and (only or criteria or tags):
        asked = [f"{place} {', '.join(values)}"
                 for place, values in zip(places, (only, criteria, tags), strict=True) if values]
        raise UsageError(f"{' and '.join(asked)}: no rule that runs matches all of these "
                         "(`soc2lint rules` lists them; rules disabled by default run when named "
                         "with --rule or enabled in the configuration)")
    return chosen


def _known(rules: Sequence[Rule], criteria: list[str], tags: list[str],
           places: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The criteria and themes asked for, as the rules write them; a UsageError names one that
    selects nothing (`places` says where each list was given)."""
    from .rules import SelectionError, known_criteria, known_tags

    try:
        criteria = known_criteria(criteria, rules)
    except SelectionError as exc:
        raise UsageError(f"{places[1]}: {exc}") from None
    try:
        tags = known_tags(tags, rules)
    except SelectionError as exc:
        raise UsageError(f"{places[2]}: {exc}") from None
    return criteria, tags


def _csv(values: Sequence[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _check_ids(config: Config, named: dict[str, Rule]) -> None:
    places = [("select.ids", config.select_ids), ("enable", config.enable),
              ("disable", config.disable), ("severity", tuple(config.severity))]
    places += [(f"ignores[{i}].rule", item.rules) for i, item in enumerate(config.ignores)]
    for key, ids in places:
        unknown = [i for i in ids if i not in named]
        if unknown:
            raise UsageError(f"{config.path}: {key}: no rule {', '.join(unknown)}")


def _with_severity(rule: Rule, severity: str | None) -> Rule:
    return dataclasses.replace(rule, severity=Severity(severity)) if severity else rule


def run(request: ScanRequest, rules: Sequence[Rule], config: Config,
        progress: Callable | None = None, today: datetime.date | None = None,
        inventory: bool = False) -> ScanRun:
    """Discover, parse, evaluate and mark suppressed findings (and take the inventory); with a
    diff base, also the view of the change."""
    from .scan import scan

    now = today or current_date()
    namer = Namer()
    try:
        var_files = [(v.file, v.module) for v in config.environment_var_files(request.environment)]
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    var_files += [(Path(p), None) for p in request.var_files]
    for path, _ in var_files:
        if not path.is_file():
            raise UsageError(f"{path}: variable file not found")
    from .pull_request import prepare, review

    change = prepare(request, config, rules, var_files, now) if request.diff_base else None
    selection = selection_of(config, rules, namer)
    found = discover(change.paths if change else list(request.paths), request.stdin_text,
                     request.stdin_name, exclude=selection.excluded)
    if change is not None and not request.full_scan and repository_changed(change.changes):
        found.roots.append((namer.name(change.changes.root), change.changes.root))  # repository rules
    policy = policy_of(request, config, namer, now, request.config_ref, found.notifications)
    result = scan(found, rules, progress, var_files=var_files, policy=policy, inventory=inventory,
                  budgets=config.limits)
    reported = None
    if change is not None:
        reported = review(request, config, change, result, rules, var_files, selection, policy)
    return ScanRun(result, config, selection.config_name, tuple(rules), now, reported,
                   tuple(found.empty))


def _placed(config: Config, namer: Namer) -> tuple[str | None, str]:
    """The configuration file's display name, and its directory's ("" at the top), which its
    patterns are relative to."""
    if not config.path:
        return None, ""
    base = namer.name(config.base)
    return namer.name(config.path), "" if base == "." else base


def selection_of(config: Config, rules: Sequence[Rule], namer: Namer) -> Selection:
    """The rules a configuration runs, the paths it excludes and its file's display name."""
    name, base = _placed(config, namer)
    return Selection(frozenset(r.id for r in rules),
                     path_matcher(config.exclude, base) if config.exclude else None, name)


def policy_of(request: ScanRequest, config: Config, namer: Namer, now: datetime.date,
            ref: str | None, notes: list[Notification], with_baseline: bool = True) -> Policy:
    """What decides which findings count under `config`: its ignores, the baseline (read as of
    `ref` when given) and whether inline ignores apply."""
    from .suppress import config_ignores

    name, base = _placed(config, namer)
    ignores = config_ignores(config.ignores, name or "", base, now)
    baseline = _baseline(request, config, namer, notes, ref) if with_baseline else None
    return Policy(tuple(ignores), baseline, now, inline=request.inline_ignores and config.inline_ignores,
                  rules_dirs=(*config.rules_dirs, *(Path(d) for d in request.rules_dirs)))


def _baseline(request: ScanRequest, config: Config, namer: Namer, notes: list[Notification],
              ref: str | None = None):
    """The baseline named on the command line or in the configuration (as of `ref`)."""
    from .suppress import BaselineError, read_baseline

    path = request.baseline or (str(config.baseline) if config.baseline else None)
    if not path:
        return None
    display = path if request.baseline else namer.name(Path(path))
    text = None
    if ref:
        text = read_at_ref(request, Path(path), ref)
        if text is None:
            notes.append(Notification(display, f"baseline does not exist at {ref}: "
                                      "no finding is baselined", "warning"))
            return None
    elif not request.baseline and not Path(path).exists():
        notes.append(Notification(
            namer.name(config.path), f"baseline {display} does not exist yet: no finding is "
            "baselined (create it with --write-baseline)", "warning"))
        return None
    try:
        return read_baseline(path, display, text)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


