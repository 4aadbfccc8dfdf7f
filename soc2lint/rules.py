"""Load rule files, check them, select them by criteria and tags."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .conditions import ConditionError, check
from .model import Criteria, Relation, Rule, Severity, Target

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = PACKAGE_DIR / "schema" / "rule.schema.json"


class RuleError(Exception):
    """A rule file that cannot be used; the message names the file and the key."""


class SelectionError(Exception):
    """A criterion, theme or rule id that selects nothing; the message names it."""


def bundled_rules_dir() -> Path:
    """Rules shipped in the wheel, or the checkout's rules/ when running from source."""
    shipped = PACKAGE_DIR / "_bundled_rules"
    return shipped if shipped.is_dir() else PACKAGE_DIR.parent / "rules"


@functools.lru_cache(maxsize=1)
def criteria() -> tuple[dict, ...]:
    """The package's SOC 2 criteria in order: id, category, paraphrased title, and the evidence
    an auditor asks for beyond code."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(PACKAGE_DIR / "data" / "criteria.yaml", encoding="utf-8") as handle:
        return tuple(yaml.load(handle, Loader=loader)["criteria"])


@functools.lru_cache(maxsize=1)
def criteria_titles() -> dict[str, str]:
    """SOC 2 criterion id -> paraphrased title."""
    return {c["id"]: c["title"] for c in criteria()}


def load_rules(extra_dirs: Sequence[Path] = (), include_bundled: bool = True) -> list[Rule]:
    """Bundled rules (checked by the test suite) plus user rule directories, schema-validated."""
    rules: dict[str, Rule] = {}
    sources: list[tuple[Path, bool]] = []
    if include_bundled:
        sources += [(p, False) for p in _rule_files(bundled_rules_dir())]
    for directory in extra_dirs:
        if not Path(directory).is_dir():
            raise RuleError(f"{directory}: rules directory not found")
        if include_bundled and Path(directory).resolve() == bundled_rules_dir().resolve():
            continue
        sources += [(p, True) for p in _rule_files(Path(directory))]
    for path, validate in sources:
        rule = load_rule_file(path, validate=validate)
        if rule.id in rules:
            raise RuleError(f"{path}: id: '{rule.id}' is also defined in {rules[rule.id].source}")
        rules[rule.id] = rule
    return sorted(rules.values(), key=lambda r: r.id)


def rule_names(extra_dirs: Sequence[Path] = ()) -> frozenset[str]:
    """Every id and alias of the bundled rules and of those in `extra_dirs`."""
    return frozenset(name for rule in load_rules(extra_dirs) for name in (rule.id, *rule.aliases))


def _rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_rule_file(path: Path, validate: bool = True) -> Rule:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc}") from None
    if not isinstance(raw, dict):
        raise RuleError(f"{path}: a rule file must hold a mapping")
    if validate:
        validate_rule_data(raw, path)
    return build_rule(raw, path)


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def validate_rule_data(raw: dict, path: Path) -> None:
    """Schema validation; the error names the deepest key that is wrong."""
    errors = sorted(_validator().iter_errors(raw), key=lambda e: (-len(e.absolute_path), e.message))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise RuleError(f"{path}: {where}: {error.message}")


@functools.lru_cache(maxsize=1)
def _known_keys() -> tuple[frozenset, frozenset]:
    """Top-level and target keys the schema allows (a cheap check for unvalidated files)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    target_keys = {k for option in schema["properties"]["target"]["oneOf"]
                   for k in option["properties"]}
    return frozenset(schema["properties"]), frozenset(target_keys)


def build_rule(raw: dict, path: Path) -> Rule:
    top_keys, target_keys = _known_keys()
    for key in raw:
        if key not in top_keys:
            raise RuleError(f"{path}: {key}: not a rule key")
    if isinstance(raw.get("target"), dict):
        for key in raw["target"]:
            if key not in target_keys:
                raise RuleError(f"{path}: target.{key}: not a target key")

    def need(key: str) -> Any:
        if key not in raw:
            raise RuleError(f"{path}: {key}: missing required key")
        return raw[key]

    rule_id = need("id")
    if Path(path).stem != rule_id:
        raise RuleError(f"{path}: id: '{rule_id}' does not match the file name")
    try:
        severity = Severity(need("severity"))
    except ValueError:
        raise RuleError(f"{path}: severity: '{raw['severity']}' is not a severity") from None
    soc2 = need("soc2")
    criteria = Criteria(tuple(soc2.get("primary", ())), tuple(soc2.get("secondary", ())))
    known = criteria_titles()
    for criterion in criteria.all:
        if criterion not in known:
            raise RuleError(f"{path}: soc2: '{criterion}' is not a SOC 2 criterion id")
    params = raw.get("params") or {}
    target = _target(need("target"), params, path)
    condition = _substitute(need("assert"), params, path)
    try:
        check(condition)
    except ConditionError as exc:
        raise RuleError(f"{path}: {exc}") from None
    return Rule(
        id=rule_id, title=need("title"), severity=severity, soc2=criteria,
        tags=tuple(need("tags")), precision=need("precision"), target=target,
        condition=condition, message=need("message"), source=str(path),
        description=raw.get("description", ""), remediation=raw.get("remediation", ""),
        limitations=raw.get("limitations", ""), references=tuple(raw.get("references", ())),
        help_uri=raw.get("help_uri", ""), report_at=_report_at(raw.get("report_at")),
        catalogue_id=raw.get("catalogue_id"), aliases=tuple(raw.get("aliases", ())),
        enabled=raw.get("enabled", True), related=_relations(raw.get("related") or {}, path),
        judges=raw.get("judges", "infrastructure"),
    )


def _relations(raw: dict, path: Path, prefix: str = "related") -> tuple[Relation, ...]:
    relations = []
    for name, spec in raw.items():
        ways = [k for k in ("by", "via", "in_root") if spec.get(k)] if isinstance(spec, dict) else []
        if len(ways) != 1 or "type" not in spec:
            raise RuleError(f"{path}: {prefix}.{name}: needs a type and exactly one of 'by', 'via' "
                            "or 'in_root: true'")
        nested = _relations(spec.get("related") or {}, path, f"{prefix}.{name}.related")
        relations.append(Relation(name, _names(spec["type"]), spec.get("kind", "resource"),
                                  spec.get("by"), spec.get("via"), tuple(spec.get("match", ())),
                                  bool(spec.get("in_root")), nested))
    return tuple(relations)


def _report_at(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _target(raw: dict, params: dict, path: Path) -> Target:
    if raw.get("scope") == "repository":  # `file` names what the rule reads; the repository
        # entity stands at an existing file (soc2lint.repository), so findings stay where it is
        return Target("repository", "repository", ("repository",))
    types, excluded = raw.get("type", ()), raw.get("not_type", ())
    where = _substitute(raw["where"], params, path) if "where" in raw else None
    if where is not None:
        try:
            check(where, "target.where")
        except ConditionError as exc:
            raise RuleError(f"{path}: {exc}") from None
    kind = raw["kind"] if isinstance(raw["kind"], str) else tuple(raw["kind"])
    return Target(raw["framework"], kind, _names(types), where, exclude_types=_names(excluded))


def _names(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _substitute(value: Any, params: dict, path: Path) -> Any:
    """Replace "$params.name" strings with the rule's parameter values."""
    if isinstance(value, str) and value.startswith("$params."):
        name = value[len("$params."):]
        if name not in params:
            raise RuleError(f"{path}: params.{name}: used in a condition but not defined")
        return params[name]
    if isinstance(value, dict):
        return {k: _substitute(v, params, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params, path) for v in value]
    return value


def select(rules: Iterable[Rule], criteria: Sequence[str] = (), tags: Sequence[str] = (),
           only_enabled: bool = True) -> list[Rule]:
    """Rules evidencing any of `criteria` (primary or secondary) and carrying any of `tags`."""
    chosen = []
    for rule in rules:
        if only_enabled and not rule.enabled:
            continue
        if criteria and not set(criteria) & set(rule.soc2.all):
            continue
        if tags and not set(tags) & set(rule.tags):
            continue
        chosen.append(rule)
    return chosen


def known_criteria(given: Sequence[str], rules: Iterable[Rule]) -> list[str]:
    """The criterion ids `given` (in any case) as the package writes them; raises SelectionError
    for one that is not a SOC 2 criterion or that no rule evidences."""
    ids = {c.lower(): c for c in criteria_titles()}
    chosen = [ids.get(c.lower(), c) for c in given]
    unknown = [c for c in chosen if c not in criteria_titles()]
    if unknown:
        hint = nearest(unknown[0], criteria_titles()) or " (ids look like CC6.1 or A1.2)"
        raise SelectionError(f"{_listed(unknown)} {'is' if len(unknown) == 1 else 'are'} not a "
                             f"SOC 2 criterion{hint}")
    evidenced = {c for rule in rules for c in rule.soc2.all}
    missing = [c for c in chosen if c not in evidenced]
    if missing:
        raise SelectionError(f"no rule evidences {_listed(missing)}; `soc2lint report` lists the "
                             "criteria that code cannot evidence")
    return chosen


def known_tags(given: Sequence[str], rules: Iterable[Rule]) -> list[str]:
    """The themes `given` (in any case) as the rules write them; raises SelectionError for one
    that no rule carries."""
    tags = {t.lower(): t for rule in rules for t in rule.tags}
    unknown = [t for t in given if t.lower() not in tags]
    if unknown:
        themes = sorted(set(tags.values()))
        hint = nearest(unknown[0], themes) or f" (the themes: {', '.join(themes)})"
        raise SelectionError(f"no rule has the theme {_listed(unknown)}{hint}")
    return [tags[t.lower()] for t in given]


def nearest(word: str, valid: Iterable[str]) -> str:
    """` (did you mean ...?)` with the valid values closest to `word`, or "" when none is close."""
    by_case = {v.lower(): v for v in valid}
    close = difflib.get_close_matches(word.lower(), list(by_case), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(by_case[c] for c in close)}?)" if close else ""


def _listed(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)
