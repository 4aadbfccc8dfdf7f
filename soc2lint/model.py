"""The data model shared by parsers, engine and renderers: plain frozen dataclasses."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .inventory import Inventory, RemoteModule


class Severity(enum.Enum):
    """Rule severity, ordered; maps to SARIF level and GitHub security-severity."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def sarif_level(self) -> str:
        return {"critical": "error", "high": "error", "medium": "warning", "low": "note"}[self.value]

    @property
    def security_severity(self) -> str:
        return {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}[self.value]


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Outcome(enum.Enum):
    """What one rule concluded about one entity."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """A region of a file; lines and columns are 1-based, end inclusive."""

    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)

    def __reduce__(self) -> tuple:  # pickles as a constructor call: parses from pool workers load faster
        return (Span, (self.line, self.column, self.end_line, self.end_column))


class Unknown:
    """A value the scanner could not resolve; `reason` names the expression."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(("Unknown", self.reason))


class Locator(Protocol):
    """Finds the span of a key path inside an entity's data."""

    def span(self, path: tuple) -> Span | None: ...


@dataclass(frozen=True)
class DictLocator:
    """A locator backed by a precomputed mapping of path -> span."""

    spans: Mapping[tuple, Span] = field(default_factory=dict)

    def span(self, path: tuple) -> Span | None:
        return self.spans.get(path)


@dataclass(frozen=True)
class DerivedLocator:
    """Locates fields derived from an entity's data (secrets found, IAM statements, exposure).

    `sources` maps a derived path (or its prefix) to a span, or to the path in the base data it
    came from (`()`: the entity itself, located by the finding's fallback).
    """

    base: Locator
    sources: Mapping[tuple, Span | tuple] = field(default_factory=dict)

    def span(self, path: tuple) -> Span | None:
        for length in range(len(path), 0, -1):
            source = self.sources.get(path[:length])
            if isinstance(source, Span):
                return source
            if source is not None:
                return self.base.span(source) if source else None
        return self.base.span(path)


@dataclass(frozen=True)
class RelatedLocation:
    """Another place a finding involves, such as the module call that created a resource."""

    path: str
    span: Span
    message: str


@dataclass(frozen=True, eq=False)
class Entity:
    """One thing a rule can be evaluated on: a resource, a container, a job, a step..."""

    framework: str
    kind: str
    type: str
    address: str
    path: str
    span: Span
    data: Mapping[str, Any]
    locator: Locator = field(default_factory=DictLocator)
    label: str = ""
    instance_key: str | None = None
    related: tuple[RelatedLocation, ...] = ()
    context: str = ""  # the root module a module instance was evaluated from
    # Whether it exists: UNKNOWN when its count or for_each, or a calling module's, is unknown;
    # a rule that fails on it is then undecided rather than failed.
    created: bool | Unknown = True

    @property
    def name(self) -> str:
        return self.label or self.address


@dataclass(frozen=True)
class Criteria:
    primary: tuple[str, ...]
    secondary: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.primary + tuple(c for c in self.secondary if c not in self.primary)


@dataclass(frozen=True)
class Target:
    framework: str
    kind: str | tuple[str, ...]  # one entity kind, or several that mean the same to the rule
    types: tuple[str, ...] = ()
    where: Mapping[str, Any] | None = None
    exclude_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """`related:` in a rule: other entities joined to the target, read as `related.<name>`.

    With `by`, a related entity's attribute `by` refers to the target (a split
    `aws_s3_bucket_versioning` whose `bucket` is `aws_s3_bucket.b.id`); with `via`, the target's
    attribute `via` refers to the related entity. `match` names the attributes of the referred
    entity whose literal value may stand for it (a bucket's name). With `in_root`, every entity
    of the type evaluated from the same root module is related (account-wide settings such as
    `aws_ebs_encryption_by_default`). A relation may have `related` of its own, so that each
    related item carries its joins in turn (an attachment's policy, a membership's groups).
    """

    name: str
    types: tuple[str, ...]
    kind: str = "resource"
    by: str | None = None
    via: str | None = None
    match: tuple[str, ...] = ()
    in_root: bool = False
    related: tuple[Relation, ...] = ()  # joins of the related entities themselves


@dataclass(frozen=True, eq=False)
class Rule:
    """A declarative rule loaded from YAML."""

    id: str
    title: str
    severity: Severity
    soc2: Criteria
    tags: tuple[str, ...]
    precision: str
    target: Target
    condition: Mapping[str, Any]
    message: str
    source: str
    description: str = ""
    remediation: str = ""
    limitations: str = ""
    references: tuple[str, ...] = ()
    help_uri: str = ""
    report_at: tuple[str, ...] = ()
    catalogue_id: str | None = None
    aliases: tuple[str, ...] = ()
    enabled: bool = True
    related: tuple[Relation, ...] = ()
    judges: str = "infrastructure"  # or "code": a finding about what is written, created or not


@dataclass(frozen=True)
class Notification:
    """Something about the scan itself: a file that could not be read, a skipped chart..."""

    path: str
    message: str
    level: str = "error"  # error | warning | note
    line: int | None = None

    @property
    def is_error(self) -> bool:
        return self.level == "error"


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not count: an accepted exception (inline or config) or the baseline."""

    kind: str  # inline | config | baseline
    justification: str
    path: str  # the file the ignore is written in
    line: int | None = None
    expires: str | None = None
    owner: str | None = None
    author: str | None = None  # who added the ignore, from git blame
    commit: str | None = None
    date: str | None = None

    @property
    def is_exception(self) -> bool:
        """An ignore with management's response, as opposed to a baselined finding."""
        return self.kind != "baseline"


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule on one entity."""

    rule: Rule
    entity: Entity
    outcome: Outcome
    message: str
    span: Span
    unresolved: tuple[str, ...] = ()
    suppression: Suppression | None = None

    @property
    def path(self) -> str:
        return self.entity.path

    @property
    def status(self) -> str:
        """pass, fail, unknown, or suppressed (a failure or unknown an ignore or baseline covers)."""
        return "suppressed" if self.suppression else self.outcome.value

    @property
    def fingerprint(self) -> str:
        from .fingerprint import fingerprint

        return fingerprint(self)


@dataclass(frozen=True)
class ExemptionChange:
    """A change since the diff base that could exempt code: an inline ignore added or removed,
    the configuration, the baseline or a rule file changed."""

    kind: str  # inline | config | baseline | rules | skipped (a file no longer scanned)
    change: str  # added | removed | changed
    path: str
    line: int | None
    summary: str
    diff: str = ""  # for the configuration: a unified diff of its settings


@dataclass(frozen=True)
class ExemptedFailure:
    """A failure a change exempts: suppressed, baselined or deselected in the change, while at
    the base it failed and counted, or did not exist."""

    rule_id: str
    path: str
    line: int
    address: str
    mechanism: str  # inline | config | baseline | deselected | excluded
    source: str  # where the exemption is written: file:line of the ignore, config or baseline file
    at_base: str  # failing | absent
    message: str = ""


@dataclass(frozen=True)
class DiffScope:
    """What a pull-request run reports: files changed since `base`, or only changed lines."""

    base: str
    base_commit: str  # what `base` resolved to: the merge base with HEAD when there is one
    files: tuple[str, ...]  # changed files that were scanned
    deleted: tuple[str, ...]
    lines_only: bool
    exemption_changes: tuple[ExemptionChange, ...] = ()
    config_ref: str | None = None  # configuration and baseline read as of this revision
    affected: tuple[str, ...] = ()  # unchanged files of changed modules with new failures
    exempted: tuple[ExemptedFailure, ...] = ()  # failures the change exempts, however written

    @property
    def base_label(self) -> str:
        """'main (1a2b3c4d5e6f)', or just the short commit when the base was given as one."""
        short = self.base_commit[:12]
        given_as_commit = (re.fullmatch(r"[0-9a-f]{7,40}", self.base)
                           and self.base_commit.startswith(self.base))
        return short if given_as_commit else f"{self.base} ({short})"


@dataclass(frozen=True)
class ScanResult:
    """Everything a scan produced, ready for the renderers."""

    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    notifications: tuple[Notification, ...]
    files: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    frameworks: tuple[str, ...] = ()
    inventory: Inventory | None = None  # outside services and remote modules, for the report
    diff: DiffScope | None = None  # set when findings are limited to changes since a revision
    # Terraform module calls with a registry or remote source, which are not evaluated
    module_calls_not_evaluated: tuple[RemoteModule, ...] = ()

    @property
    def failures(self) -> tuple[Finding, ...]:
        """Failures that count: not covered by an ignore or the baseline."""
        return tuple(f for f in self.findings if f.outcome is Outcome.FAIL and not f.suppression)

    @property
    def unknowns(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.outcome is Outcome.UNKNOWN and not f.suppression)

    @property
    def suppressed(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppression)
