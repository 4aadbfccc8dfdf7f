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


def find_config(start: Path) -> Path | None:
    """The nearest configuration file from `start` up to its repository root."""
    current = start.resolve()
    if not current.is_dir():
        current = current.parent
    for directory in (current, *current.parents):
        for name in CONFIG_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "[tool.soc2lint" in pyproject.read_text("utf-8", "replace"):
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


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
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python 3.10 only
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        lines = [Span(n) for n, line in enumerate(text.splitlines(), 1)
                 if line.strip().replace(" ", "") == "[[tool.soc2lint.ignores]]"]
        return data.get("tool", {}).get("soc2lint", {}), lines
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
