"""The project configuration: `.soc2lint.yaml` or `[tool.soc2lint]` in pyproject.toml.

Validated with schema/config.schema.json; a problem raises ConfigError naming the file and key.
Paths in the file are relative to the file's directory.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import posixpath
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .evaluate.budget import Budgets
from .model import Span

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "config.schema.json"
CONFIG_NAMES = (".soc2lint.yaml", ".soc2lint.yml")


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ConfigIgnore:
    """An accepted exception written in the configuration file."""

    rules: tuple[str, ...]
    justification: str
    paths: tuple[str, ...] = ()
    resource: str | None = None
    expires: datetime.date | None = None
    owner: str | None = None
    span: Span = field(default_factory=lambda: Span(1))


@dataclass(frozen=True)
class VarFile:
    file: Path
    module: Path | None = None  # only for the root module in this directory


@dataclass(frozen=True)
class Config:
    """Settings from the configuration file; an empty Config when there is none."""

    path: Path | None = None
    digest: str | None = None
    rules_dirs: tuple[Path, ...] = ()
    select_ids: tuple[str, ...] = ()
    select_tags: tuple[str, ...] = ()
    select_criteria: tuple[str, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    fail_on: str | None = None
    ignores: tuple[ConfigIgnore, ...] = ()
    baseline: Path | None = None
    var_files: tuple[VarFile, ...] = ()
    environments: Mapping[str, tuple[VarFile, ...]] = field(default_factory=dict)
    environment: str | None = None
    inline_ignores: bool = True
    limits: Budgets = field(default_factory=Budgets)  # terraform.limits: evaluation budgets

    @property
    def base(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def environment_var_files(self, name: str | None) -> tuple[VarFile, ...]:
        """Variable files for every run, then those of the environment chosen."""
        chosen = name or self.environment
        if chosen is None:
            return self.var_files
        if chosen not in self.environments:
            known = ", ".join(sorted(self.environments)) or "none is defined"
            raise ConfigError(f"{self.path}: terraform.environments: no environment '{chosen}' "
                              f"({known})")
        return self.var_files + self.environments[chosen]

    def locations(self) -> list[tuple[str, Path]]:
        """Every path the configuration names, with its key."""
        found = [(f"rules_dirs[{i}]", d) for i, d in enumerate(self.rules_dirs)]
        found += [("baseline", self.baseline)] if self.baseline else []
        sets = [("terraform.var_files", self.var_files), *(
            (f"terraform.environments.{name}.var_files", items) for name, items in self.environments.items())]
        for key, items in sets:
            for i, item in enumerate(items):
                found.append((f"{key}[{i}]", item.file))
                found += [(f"{key}[{i}].module", item.module)] if item.module else []
        return found

    def settings(self, root: Path) -> list[str]:
        """The settings as sorted `key: value` lines (values in JSON, paths relative to `root`,
        defaults left out): what the configuration decides, however the file is written."""
        base = _relative(self.base, root) if self.path else ""

        def files(items: tuple[VarFile, ...]) -> list:
            return [[_relative(v.file, root), _relative(v.module, root) if v.module else None]
                    for v in items]

        values: dict[str, Any] = {
            "rules_dirs": [_relative(d, root) for d in self.rules_dirs],
            "select.ids": sorted(self.select_ids), "select.tags": sorted(self.select_tags),
            "select.criteria": sorted(self.select_criteria), "enable": sorted(self.enable),
            "disable": sorted(self.disable),
            "exclude": [rebase_pattern(p, base) for p in self.exclude],
            "fail_on": self.fail_on, "baseline": _relative(self.baseline, root) if self.baseline else None,
            "inline_ignores": None if self.inline_ignores else False,
            "terraform.var_files": files(self.var_files),
            "terraform.environment": self.environment,
            **{f"severity.{rule}": level for rule, level in self.severity.items()},
            **{f"terraform.environments.{name}": files(items) for name, items in self.environments.items()},
            **{f"terraform.limits.{name}": getattr(self.limits, name) for name in Budgets.names()
               if getattr(self.limits, name) != getattr(Budgets(), name)},
        }
        lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in sorted(values.items())
                 if value not in (None, [], ())]
        ignores = [{"rule": list(i.rules), "paths": [rebase_pattern(p, base) for p in i.paths],
                    "resource": i.resource, "expires": i.expires.isoformat() if i.expires else None,
                    "owner": i.owner, "justification": i.justification} for i in self.ignores]
        return lines + sorted(f"ignores[]: {json.dumps(i, ensure_ascii=False)}" for i in ignores)


def _relative(path: Path, root: Path) -> str:
    """`path` relative to `root` as a POSIX path, or as given when it lies elsewhere."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def find_config(start: Path, top: Path | None = None) -> Path | None:
    """The nearest configuration file from `start` up to its repository root; a pyproject.toml
    that leads outside `top` (a symbolic link) is returned unread, for the caller to refuse."""
    from .discovery import leaves

    current = start.resolve()
    if not current.is_dir():
        current = current.parent
    for directory in (current, *current.parents):
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and ((top is not None and leaves(pyproject, top)) or declares_settings(
                pyproject, pyproject.read_text("utf-8", "replace"))):
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def declares_settings(path: Path, text: str) -> bool:
    """Whether a file holds soc2lint settings: a .soc2lint.yaml does; a pyproject.toml does when
    its parsed TOML has `tool.soc2lint`, however written (a table, an inline table, dotted keys),
    and not for a mere mention in a comment or a string. A pyproject.toml that is not valid TOML
    counts when it mentions soc2lint at all, so that loading it names the error."""
    if path.name != "pyproject.toml":
        return True
    try:
        data = _toml().loads(text)
    except _toml().TOMLDecodeError:
        return "soc2lint" in text
    return _tool_settings(data) is not None


def _toml():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib


def _tool_settings(data: Mapping[str, Any]) -> Any:
    """`tool.soc2lint` of a parsed pyproject.toml, or None."""
    tool = data.get("tool")
    return tool.get("soc2lint") if isinstance(tool, dict) else None


def path_matcher(patterns: Sequence[str], base: str = "") -> Callable[[str], bool]:
    """A test of repository-relative paths (a directory ends with '/') against gitignore-style
    patterns written relative to `base`, the configuration file's directory."""
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines([rebase_pattern(p, base) for p in patterns])
    return lambda path: spec.match_file(posixpath.normpath(path) + ("/" if path.endswith("/") else ""))


def rebase_pattern(pattern: str, base: str) -> str:
    """A config-relative gitignore pattern as a pattern on repository-relative paths."""
    if base in ("", "."):
        return pattern
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    anchored = body.lstrip("/") if ("/" in body.rstrip("/")) else f"**/{body}"
    return ("!" if negated else "") + posixpath.join(base, anchored)


def load_config(path: Path, text: str | None = None) -> Config:
    """Read, validate and convert one configuration file (`text`: its content at another
    revision; paths in it stay relative to `path`'s directory)."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    raw, ignore_spans = _parse(path, text)
    raw = _plain(raw)
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = _key_path(error.absolute_path) or "(top level)"
        raise ConfigError(f"{path}: {where}: {_explain(error)}")
    return _build(path, raw, ignore_spans, hashlib.sha256(text.encode("utf-8")).hexdigest())


def _parse(path: Path, text: str) -> tuple[Any, list[Span]]:
    """The raw settings and where each ignore entry starts."""
    if path.name == "pyproject.toml":
        try:
            data = _toml().loads(text)
        except _toml().TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        lines = [Span(n) for n, line in enumerate(text.splitlines(), 1)
                 if line.strip().replace(" ", "") == "[[tool.soc2lint.ignores]]"]
        settings = _tool_settings(data)
        return ({} if settings is None else settings), lines
    import yaml

    from .parsers.yamlspans import load_documents

    try:
        docs, _ = load_documents(text, _loader_without_dates())
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if not docs or docs[0].data is None:
        return {}, []
    data = docs[0].data
    ignores = data.get("ignores") if isinstance(data, dict) else None
    return data, list(getattr(ignores, "item_spans", []))


@functools.lru_cache(maxsize=1)
def _loader_without_dates():
    """The YAML loader, leaving dates as written: the schema and the key path judge them."""
    from .parsers.yamlspans import SpanLoader

    class ConfigLoader(SpanLoader):
        pass

    ConfigLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in SpanLoader.yaml_implicit_resolvers.items()}
    return ConfigLoader


def _plain(value: Any) -> Any:
    """YAML and TOML dates become ISO strings, so the schema sees what was written."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    return value


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _key_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(error) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    if error.validator == "pattern" and "[0-9]{4}" in str(error.validator_value):
        return f"{error.instance!r} is not a date (YYYY-MM-DD)"
    if error.validator == "oneOf":
        return f"{error.instance!r} is not valid here"
    return error.message


def _build(path: Path, raw: Mapping[str, Any], ignore_spans: list[Span], digest: str) -> Config:
    base = path.parent
    select = raw.get("select", {})
    terraform = raw.get("terraform", {})
    ignores = tuple(_ignore(path, i, item, ignore_spans[i] if i < len(ignore_spans) else Span(1))
                    for i, item in enumerate(raw.get("ignores", [])))
    return Config(
        path=path, digest=digest,
        rules_dirs=tuple(base / d for d in raw.get("rules_dirs", [])),
        select_ids=tuple(select.get("ids", [])), select_tags=tuple(select.get("tags", [])),
        select_criteria=tuple(select.get("criteria", [])),
        enable=tuple(raw.get("enable", [])), disable=tuple(raw.get("disable", [])),
        severity=dict(raw.get("severity", {})), exclude=tuple(raw.get("exclude", [])),
        fail_on=raw.get("fail_on"), ignores=ignores,
        baseline=base / raw["baseline"] if raw.get("baseline") else None,
        var_files=_var_files(base, terraform.get("var_files", [])),
        environments={name: _var_files(base, env["var_files"])
                      for name, env in terraform.get("environments", {}).items()},
        environment=terraform.get("environment"),
        inline_ignores=raw.get("inline_ignores", True),
        limits=Budgets(**terraform.get("limits", {})),
    )


def _var_files(base: Path, items: list) -> tuple[VarFile, ...]:
    return tuple(VarFile(base / item) if isinstance(item, str) else VarFile(
        base / item["file"], base / item["module"] if item.get("module") else None) for item in items)


def _ignore(path: Path, index: int, item: Mapping[str, Any], span: Span) -> ConfigIgnore:
    expires = None
    if item.get("expires"):
        try:
            expires = datetime.date.fromisoformat(item["expires"])
        except ValueError:
            raise ConfigError(f"{path}: ignores[{index}].expires: {item['expires']!r} is not a "
                              "valid date") from None
    rules = item["rule"]
    return ConfigIgnore(
        rules=(rules,) if isinstance(rules, str) else tuple(rules),
        justification=(item.get("justification") or "").strip(),
        paths=tuple(item.get("paths", [])), resource=item.get("resource"),
        expires=expires, owner=item.get("owner"), span=span)
