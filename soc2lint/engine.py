"""(rules, entities) -> findings. Pure: no I/O, no rule-specific code."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .conditions import Context, evaluate, parse_path, resolve
from .internal_error import internal_error
from .joins import Joiner, with_related
from .model import Entity, Finding, Notification, Outcome, Rule, Span, Unknown

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][^{}]*)\}")


@dataclass(frozen=True)
class Evaluation:
    """The findings of a run, and an error notification for each rule that raised on an entity."""

    findings: tuple[Finding, ...]
    notifications: tuple[Notification, ...] = ()


def run(rules: Sequence[Rule], entities: Iterable[Entity],
        context: Sequence[Entity] = ()) -> Evaluation:
    """Evaluate every rule on every entity it targets; one finding per (rule, entity). Entities
    of `context` are not targets, but joins (`related:`) can reach them. A rule that raises on
    an entity gives an error notification on the entity's file instead; the run goes on."""
    index: dict[tuple[str, str], list[Entity]] = defaultdict(list)
    entities = list(entities)
    for entity in entities:
        index[(entity.framework, entity.kind)].append(entity)
    joiner = Joiner([*entities, *context]) if any(rule.related for rule in rules) else None
    findings: list[Finding] = []
    problems: list[Notification] = []
    for rule in rules:
        target = rule.target
        kinds = (target.kind,) if isinstance(target.kind, str) else target.kind
        for entity in (e for kind in kinds for e in index.get((target.framework, kind), ())):
            if (target.types and entity.type not in target.types) or (
                    entity.type in target.exclude_types):
                continue
            try:
                finding = evaluate_rule(rule, entity, joiner)
            except Exception as exc:  # one rule's bug on one entity must not stop the run
                problems.append(internal_error(
                    entity.path, exc, f"evaluating rule {rule.id} on {entity.address}",
                    entity.span.line))
                continue
            if finding is not None:
                findings.append(finding)
    findings.sort(key=lambda f: (f.path, f.span.line, f.span.column, f.rule.id, f.entity.address))
    return Evaluation(tuple(findings), tuple(problems))


def evaluate_rule(rule: Rule, entity: Entity, joiner: Joiner | None = None) -> Finding | None:
    """The outcome of one rule on one entity, or None when `where` excludes it."""
    ctx = Context()
    applies = True
    data = entity.data
    if rule.related:
        data = with_related(data, (joiner or Joiner([entity])).related(entity, rule.related))
    if rule.target.where is not None:
        applies = evaluate(rule.target.where, data, ctx)
        if applies is False:
            return None
    holds = evaluate(rule.condition, data, ctx)
    if holds is True:
        outcome = Outcome.PASS
    elif holds is False and applies is True:
        outcome = Outcome.FAIL
    else:
        outcome = Outcome.UNKNOWN
    if outcome is Outcome.FAIL and isinstance(entity.created, Unknown) and rule.judges != "code":
        outcome = Outcome.UNKNOWN  # a failure of something that may not exist is not one
        ctx.unknown(entity.created)
    if outcome is Outcome.FAIL:
        span = locate(rule, entity, ctx.culprits)
    elif outcome is Outcome.UNKNOWN:
        span = locate(rule, entity, ctx.culprits + ctx.undecided)
    else:
        span = entity.span
    unresolved = tuple(ctx.unresolved) if outcome is Outcome.UNKNOWN else ()
    if outcome is Outcome.FAIL:
        message = format_message(rule.message, entity)
    elif outcome is Outcome.UNKNOWN:  # neutral: an undecided result must not read as a failure
        message = (f"Not decided for '{entity.name}' ({rule.title}): depends on "
                   f"{'; '.join(unresolved) or 'a value that could not be resolved'}")
    else:
        message = rule.title
    return Finding(rule, entity, outcome, message, span, unresolved)


def locate(rule: Rule, entity: Entity, culprits: Sequence[tuple]) -> Span:
    """Where a finding points: `report_at`, its nearest present parent, a culprit, the block."""
    for report_at in rule.report_at:
        span = _span_at(entity, report_at)
        if span:
            return span
    for path in culprits:
        span = entity.locator.span(path)
        if span:
            return span
    return entity.span


def _span_at(entity: Entity, report_at: str) -> Span | None:
    segments = parse_path(report_at)
    for length in range(len(segments), 0, -1):
        for where, value in resolve(entity.data, segments[:length]):
            span = entity.locator.span(where)
            if span is None and isinstance(value, list) and value:
                span = entity.locator.span((*where, 0))
            if span:
                return span
    return None


def format_message(template: str, entity: Entity) -> str:
    """Fill `{name}`, `{type}`, `{file}`, `{address}` and `{data.path}` placeholders."""
    fixed = {"name": entity.name, "type": entity.type, "file": entity.path,
             "address": entity.address}

    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key in fixed:
            return fixed[key]
        try:
            values = [v for _, v in resolve(entity.data, key)]
        except ValueError:
            return match.group(0)
        flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
        return ", ".join(x.reason if isinstance(x, Unknown) else str(x) for x in flat) or "(none)"

    return _PLACEHOLDER.sub(replace, template)
