"""One scan from options to result: configuration, rules, discovery, ignores and baseline.

Shared by `soc2lint scan` and `soc2lint report`; options given on the command line win over the
configuration file. Problems with the configuration, a rule file or the baseline raise
UsageError (exit 2 in the CLI), naming the file and the key.
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
from .model import Notification, Rule, ScanResult, Severity
from .scan import CODEOWNERS_LOCATIONS
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

    @property
    def shown(self) -> ScanResult:
        return self.reported or self.result


def load_project_config(request: ScanRequest) -> Config:
    """The configuration file named, or the nearest one above the first path, or none."""
    if not request.use_config:
        return Config()
    try:
        if request.config_ref:
            return _config_at(request)
        if request.config:
            if not Path(request.config).is_file():
                raise UsageError(f"{request.config}: configuration file not found")
            return load_config(Path(request.config))
        start = next((p for p in request.paths if p != "-"), ".")
        found = find_config(Path(start)) if Path(start).exists() else None
        return load_config(found) if found else Config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _first_path(request: ScanRequest) -> Path:
    return Path(next((p for p in request.paths if p != "-"), "."))


def _config_at(request: ScanRequest) -> Config:
    """The configuration as of `config_ref`: the file named, or the nearest one above the first
    path in that revision; none there means the defaults."""
    from .config import CONFIG_NAMES

    root, _ = _ref(request)
    if request.config:
        candidates = [Path(request.config).resolve()]
    else:
        start = _first_path(request).resolve()
        start = start if start.is_dir() else start.parent
        directories = [start, *start.parents]
        directories = directories[:directories.index(root) + 1] if root in directories else [start]
        candidates = [d / name for d in directories for name in (*CONFIG_NAMES, "pyproject.toml")]
    for candidate in candidates:
        text = _read_at_ref(request, candidate)
        if text is not None and (candidate.name != "pyproject.toml" or "[tool.soc2lint" in text):
            return load_config(candidate, text)
    if request.config:
        raise UsageError(f"{request.config}: configuration file not found at {request.config_ref}")
    return Config()


@functools.lru_cache(maxsize=4)
def _ref(request: ScanRequest) -> tuple[Path, str]:
    """The repository of the first path and the commit `config_ref` names in it."""
    from .gitdiff import GitError, repository_root, resolve

    try:
        root = repository_root(_first_path(request))
        return root, resolve(root, request.config_ref)
    except GitError as exc:
        raise UsageError(f"--config-ref: {exc}") from None


def _read_at_ref(request: ScanRequest, path: Path) -> str | None:
    """A file's text as of `config_ref`, or None when it is not there."""
    from .gitdiff import read_at

    root, commit = _ref(request)
    try:
        relative = path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise UsageError(f"{path}: not in the repository {root}") from None
    return read_at(root, commit, relative)


def choose_rules(request: ScanRequest, config: Config | None = None,
                 only_enabled: bool = True) -> list[Rule]:
    """Bundled and extra rules, selected by the command line or else by the configuration."""
    config = config or Config()
    from .rules import RuleError, load_rules, select

    try:
        rules = load_rules([*config.rules_dirs, *(Path(d) for d in request.rules_dirs)])
    except RuleError as exc:
        raise UsageError(f"rule error: {exc}") from None
    named = {name: r for r in rules for name in (r.id, *r.aliases)}
    _check_ids(config, named)
    rules = [_with_severity(r, config.severity.get(r.id)) for r in rules]
    named = {name: r for r in rules for name in (r.id, *r.aliases)}
    only, criteria, tags = (_csv(request.only_rules), _csv(request.criteria), _csv(request.tags))
    if not (only or criteria or tags):  # the command line wins over the configuration
        only, criteria, tags = (list(config.select_ids), list(config.select_criteria),
                                list(config.select_tags))
    if only:
        missing = [w for w in only if w not in named]
        if missing:
            raise UsageError(f"no rule {', '.join(missing)}; `soc2lint rules` lists them")
        return select(list({named[w].id: named[w] for w in only}.values()), criteria, tags,
                      only_enabled=False)
    enabled = {named[i].id for i in config.enable}
    disabled = {named[i].id for i in config.disable}
    rules = [dataclasses.replace(r, enabled=True) if r.id in enabled else r for r in rules
             if r.id not in disabled]
    return select(rules, criteria, tags, only_enabled=only_enabled)


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
    from .scan import Policy, scan
    from .suppress import config_ignores

    now = today or current_date()
    namer = Namer()
    base = namer.name(config.base) if config.path else ""
    base = "" if base == "." else base
    exclude = path_matcher(config.exclude, base) if config.exclude else None
    try:
        var_files = [(v.file, v.module) for v in config.environment_var_files(request.environment)]
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    var_files += [(Path(p), None) for p in request.var_files]
    for path, _ in var_files:
        if not path.is_file():
            raise UsageError(f"{path}: variable file not found")
    changes, paths, all_terraform = _changes(request, var_files)
    found = discover(paths, request.stdin_text, request.stdin_name, exclude=exclude)
    if changes is not None and not request.full_scan and any(
            p in changes.files for p in CODEOWNERS_LOCATIONS):
        found.roots.append((namer.name(changes.root), changes.root))  # repository-level rules
    baseline = _baseline(request, config, namer, found.notifications)
    config_name = namer.name(config.path) if config.path else ""
    policy = Policy(tuple(config_ignores(config.ignores, config_name, base, now)), baseline, now,
                    inline=request.inline_ignores and config.inline_ignores)
    result = scan(found, rules, progress, var_files=var_files, policy=policy, inventory=inventory)
    reported = None
    if changes is not None:
        reported = _review(request, config, changes, result, now, rules, var_files, all_terraform)
    return ScanRun(result, config, config_name or None, tuple(rules), now, reported)


def _changes(request: ScanRequest, var_files: list):
    """With a diff base: the changes, the paths to scan for them (every path when the full scan is
    needed, for SARIF or after a variable file changed), and whether a variable file changed."""
    if not request.diff_base:
        return None, list(request.paths), False
    from .gitdiff import GitError, changes_since
    from .review import scan_paths, var_files_changed

    try:
        changes = changes_since(request.diff_base, _first_path(request))
    except GitError as exc:
        raise UsageError(f"--diff-base: {exc}") from None
    all_terraform = var_files_changed(changes, var_files)
    if request.full_scan or all_terraform:
        return changes, list(request.paths), all_terraform
    return changes, scan_paths(changes, request.paths), all_terraform


def _baseline(request: ScanRequest, config: Config, namer: Namer, notes: list[Notification]):
    """The baseline named on the command line or in the configuration (as of `config_ref`)."""
    from .suppress import BaselineError, read_baseline

    path = request.baseline or (str(config.baseline) if config.baseline else None)
    if not path:
        return None
    display = path if request.baseline else namer.name(Path(path))
    text = None
    if request.config_ref:
        text = _read_at_ref(request, Path(path))
        if text is None:
            notes.append(Notification(display, f"baseline does not exist at {request.config_ref}: "
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


def _review(request: ScanRequest, config: Config, changes, result: ScanResult,
            now: datetime.date, rules: Sequence[Rule], var_files: list, all_terraform: bool) -> ScanResult:
    """The result limited to the change, with the exemption changes it makes."""
    from .exemptions import exemption_changes
    from .review import restrict

    def relative(path) -> str | None:
        try:
            return Path(path).resolve().relative_to(changes.root).as_posix() if path else None
        except ValueError:
            return None

    named = [relative(p) for p in (request.baseline, config.baseline, request.config,
                                   *config.rules_dirs, *request.rules_dirs)]
    baselines, configs, rules_dirs = named[:2], named[2:3], named[3:]
    exemptions = exemption_changes(changes, now, [b for b in baselines if b],
                                   [d for d in rules_dirs if d], [c for c in configs if c])
    return restrict(result, changes, request.changed_lines_only, rules, var_files, all_terraform,
                    exemptions, request.config_ref)
