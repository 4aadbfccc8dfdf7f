"""Ignores and the baseline: which findings are accepted exceptions or known debt.

Inline: `# soc2lint:ignore <rule-id>[,<rule-id>] [expires=YYYY-MM-DD] -- <justification>` on a
line of a block, or in the comment lines just above it, covers that block's findings for those
rules. Config ignores match by rule, path pattern and resource address. An ignore without a
justification (one of whitespace, zero-width, format or control characters or combining marks
alone counts as none) or past its expiry date does not apply; both are findings of their own (rules
`ignore-has-justification` and `ignore-not-expired`), made from the ignore entities built here. A
name that is neither a rule id nor an alias of any rule known to the run (selected or not) covers
nothing and is a finding too (`ignore-unknown-rule`).
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .config import ConfigIgnore, path_matcher, rebase_pattern
from .model import Entity, Finding, Outcome, Rule, Span, Suppression

FRAMEWORK = "soc2lint"
_DIRECTIVE = re.compile(r"(?:^|\s)(?:#|//)\s*soc2lint:ignore\b[ \t]*(?P<rest>.*)$")
_IDS = re.compile(r"^(?P<ids>[A-Za-z0-9][A-Za-z0-9_/-]*(?:\s*,\s*[A-Za-z0-9][A-Za-z0-9_/-]*)*)(?=\s|$)")
_EXPIRES = re.compile(r"\bexpires=(?P<date>\S+)")


@dataclass(frozen=True)
class Ignore:
    """One ignore, inline or from the config file, resolved against today."""

    kind: str  # inline | config
    rules: tuple[str, ...]
    justification: str  # "" when nothing in it is visible (see `justification_of`)
    path: str  # where it is written
    span: Span
    target_line: int = 0  # inline: the line whose blocks it covers
    expires: str | None = None
    expired: bool = False
    owner: str | None = None
    paths: tuple[str, ...] = ()
    resource: str | None = None
    problem: str | None = None  # why it cannot apply, beyond expiry and justification
    unknown: tuple[str, ...] = ()  # names in `rules` that are no rule's id or alias
    closest: tuple[str, ...] = ()  # known names close to the unknown ones, for the message

    @property
    def applies(self) -> bool:
        return bool(self.justification) and not self.expired and not self.problem

    def suppression(self) -> Suppression:
        return Suppression(self.kind, self.justification, self.path, self.span.line,
                           self.expires, self.owner)

    def entity(self) -> Entity:
        """The ignore as something rules can check (justification present, not expired)."""
        data = {"rules": list(self.rules), "justification": self.justification or None,
                "expires": self.expires, "expired": self.expired, "owner": self.owner,
                "kind": self.kind, "unknown_rules": list(self.unknown) or None,
                "correction": (f"did you mean {', '.join(self.closest)}?" if self.closest
                               else "`soc2lint rules` lists the ids") if self.unknown else None}
        return Entity(FRAMEWORK, "ignore", self.kind, f"ignore:{self.path}:{self.span.line}",
                      self.path, self.span, data, label=f"ignore of {', '.join(self.rules)}")


# Letters that render as blank space: Hangul fillers and the blank Braille pattern.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_visible(text: str | None) -> bool:
    """Whether `text` holds a character a reader can see: whitespace, zero-width and other format
    characters (Unicode category Cf), control characters and combining marks alone are none."""
    return any(unicodedata.category(char)[0] not in "CMZ" and not char.isspace()
               and char not in _BLANK_LETTERS for char in text or "")


def justification_of(text: str | None) -> str:
    """The justification as written, or "" when nothing in it is visible."""
    text = (text or "").strip()
    return text if is_visible(text) else ""


def today() -> datetime.date:
    """SOURCE_DATE_EPOCH (reproducible builds), else the UTC date; `--today` wins over both."""
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    return datetime.datetime.now(datetime.timezone.utc).date()


def _expiry(raw: str | None, now: datetime.date) -> tuple[str | None, bool, str | None]:
    if raw is None:
        return None, False, None
    try:
        date = datetime.date.fromisoformat(raw)
    except ValueError:
        return raw, False, f"expires={raw} is not a date (YYYY-MM-DD); the ignore does not apply"
    return date.isoformat(), date < now, None


def inline_ignores(path: str, text: str, now: datetime.date) -> list[Ignore]:
    """The `soc2lint:ignore` comments of one file."""
    if "soc2lint:ignore" not in text:
        return []
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, 1):
        match = _DIRECTIVE.search(line)
        if not match:
            continue
        rest = match.group("rest")
        ids_match = _IDS.match(rest)
        head, _, justification = rest.partition("--")
        expiry = _EXPIRES.search(head)
        expires, expired, problem = _expiry(expiry.group("date") if expiry else None, now)
        rules = tuple(r.strip() for r in ids_match.group("ids").split(",")) if ids_match else ()
        if not rules:
            problem = "names no rule: write `soc2lint:ignore <rule-id> -- <justification>`"
        column = match.start() + (1 if line[match.start()].isspace() else 0) + 1
        found.append(Ignore("inline", rules, justification_of(justification), path,
                            Span(number, column, number, len(line) + 1),
                            _target_line(lines, number, code_before=line[:column - 1].strip() != ""),
                            expires, expired, problem=problem))
    return found


def _target_line(lines: list[str], number: int, code_before: bool) -> int:
    """A trailing comment covers its own line; a comment line covers the code right below it."""
    if code_before:
        return number
    for index in range(number, len(lines)):
        stripped = lines[index].strip()
        if not stripped:
            return number
        if not stripped.startswith(("#", "//")):
            return index + 1
    return number


def with_unknown_rules(ignores: Iterable[Ignore], known: Iterable[str]) -> list[Ignore]:
    """The ignores, each with the names it gives that are not in `known` (rule ids and aliases)."""
    names = frozenset(known)
    marked = []
    for ignore in ignores:
        unknown = tuple(r for r in ignore.rules if r not in names)
        if unknown:
            closest = {c: None for name in unknown
                       for c in difflib.get_close_matches(name, sorted(names), n=2, cutoff=0.8)}
            ignore = dataclasses.replace(ignore, unknown=unknown, closest=tuple(closest))
        marked.append(ignore)
    return marked


def config_ignores(items: Sequence[ConfigIgnore], config_path: str, base: str,
                   now: datetime.date) -> list[Ignore]:
    """Ignores from the config file; `base` is the config file's directory as a display path."""
    result = []
    for item in items:
        expires = item.expires.isoformat() if item.expires else None
        result.append(Ignore("config", item.rules, justification_of(item.justification), config_path,
                             item.span, expires=expires, expired=bool(item.expires and item.expires < now),
                             owner=item.owner, paths=tuple(rebase_pattern(p, base) for p in item.paths),
                             resource=item.resource))
    return result


class Suppressor:
    """Marks findings that an applicable ignore or a baseline entry covers."""

    def __init__(self, ignores: Iterable[Ignore], rules: Iterable[Rule],
                 baseline: Baseline | None = None) -> None:
        self.canonical = {name: rule.id for rule in rules for name in (rule.id, *rule.aliases)}
        self.inline: dict[str, list[Ignore]] = defaultdict(list)
        self.config: list[tuple[Ignore, Callable[[str], bool] | None]] = []
        for ignore in ignores:
            if not ignore.applies:
                continue
            if ignore.kind == "inline":
                self.inline[ignore.path].append(ignore)
            else:
                self.config.append((ignore, path_matcher(ignore.paths) if ignore.paths else None))
        # entries written under a rule's old id (an alias) match the rule under its current id
        self.baseline = baseline and dataclasses.replace(baseline, keys=frozenset(
            (self.canonical.get(rule, rule), *rest) for rule, *rest in baseline.keys))

    def mark(self, findings: Iterable[Finding]) -> list[Finding]:
        marked = []
        for finding in findings:
            suppression = finding.suppression or self.suppression_for(finding)
            marked.append(dataclasses.replace(finding, suppression=suppression)
                          if suppression is not finding.suppression else finding)
        return marked

    def suppression_for(self, finding: Finding) -> Suppression | None:
        if finding.outcome is Outcome.PASS or finding.entity.framework == FRAMEWORK:
            return None
        for ignore in self._inline_candidates(finding):
            if self._names(ignore, finding.rule):
                return ignore.suppression()
        for ignore, spec in self.config:
            if (self._names(ignore, finding.rule) and (spec is None or spec(finding.path))
                    and (ignore.resource is None or _address_matches(ignore.resource, finding.entity))):
                return ignore.suppression()
        if self.baseline is not None and finding.outcome is Outcome.FAIL:
            return self.baseline.suppression_for(finding)
        return None

    def _inline_candidates(self, finding: Finding) -> Iterable[Ignore]:
        entity = finding.entity
        places = [(entity.path, entity.span)] + [(r.path, r.span) for r in entity.related]
        for path, span in places:
            for ignore in self.inline.get(path, ()):
                if span.line <= ignore.target_line <= span.end_line:
                    yield ignore

    def _names(self, ignore: Ignore, rule: Rule) -> bool:
        return any(self.canonical.get(name, name) == rule.id for name in ignore.rules)


def _address_matches(pattern: str, entity: Entity) -> bool:
    """`*` and `?` are wildcards; brackets are literal, so an instance key can be named."""
    base = entity.address.split("[", 1)[0] if entity.instance_key is not None else entity.address
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return any(re.fullmatch(regex, a) for a in (entity.address, base))


# -- baseline --------------------------------------------------------------------------------
BASELINE_VERSION = 1


def baseline_key(finding: Finding) -> tuple[str, ...]:
    """What identifies a finding across edits: rule, path, address, instance (never lines)."""
    from .fingerprint import identity_parts

    return identity_parts(finding)


@dataclass(frozen=True)
class Baseline:
    """Failures accepted as known when the baseline file was written."""

    path: str
    keys: frozenset[tuple[str, ...]]

    def suppression_for(self, finding: Finding) -> Suppression | None:
        if baseline_key(finding) in self.keys:
            return Suppression("baseline", f"known failure recorded in the baseline {self.path}",
                               self.path)
        return None


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file."""


def read_baseline(path, display: str, text: str | None = None) -> Baseline:
    """The baseline file at `path` (or its content `text`, read from another revision)."""
    import json

    try:
        if text is None:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        data = json.loads(text)
        entries = data["findings"]
        if data.get("version") != BASELINE_VERSION:
            raise BaselineError(f"{display}: baseline version {data.get('version')!r} is not "
                                f"{BASELINE_VERSION}")
        keys = frozenset((e["rule"], e["path"], e["address"], e.get("instance_key") or "",
                          *([e["context"]] if e.get("context") else [])) for e in entries)
    except OSError as exc:
        raise BaselineError(f"{display}: cannot read baseline: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"{display}: not a soc2lint baseline file ({exc})") from None
    return Baseline(display, keys)


def render_baseline(findings: Iterable[Finding]) -> str:
    """The baseline file for the counted failures: sorted, one entry per finding, no lines."""
    import json

    entries = {}
    for finding in findings:
        rule, path, address, instance, *context = baseline_key(finding)
        entry = {"rule": rule, "path": path, "address": address, "instance_key": instance or None}
        if context:
            entry["context"] = context[0]
        entry["severity"] = finding.rule.severity.value
        entries[(rule, path, address, instance, *context)] = entry
    ordered = [entries[k] for k in sorted(entries)]
    return json.dumps({"version": BASELINE_VERSION, "tool": "soc2lint", "findings": ordered},
                      indent=2, ensure_ascii=False) + "\n"
