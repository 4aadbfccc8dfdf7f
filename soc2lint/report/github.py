"""GitHub Actions workflow commands (`::error file=...::message`) that become annotations.

Escaping follows the GitHub Actions toolkit (@actions/core `escapeData` / `escapeProperty`); other
control characters, which the log would interpret (ANSI sequences), are written as escapes
(`\\x1b`). Line/column properties follow the runner's rules: columns only on single-line spans.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Finding, Notification, ScanResult, Severity
from . import most_severe_first
from .escape import printable

# GitHub shows at most this many annotations of each level per step (and 50 per job, which the
# 30 a single step can emit stay under); the rest are silently dropped, so we choose which.
ANNOTATION_LIMITS = {"error": 10, "warning": 10, "notice": 10}
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "notice"}
UNREADABLE_TITLE = "soc2lint could not read this file"


@dataclass(frozen=True)
class AnnotationPlan:
    """Which results get an annotation, within GitHub's limits."""

    annotated: tuple[Finding, ...]  # the failures that get an annotation, in emitted order
    errors: tuple[Notification, ...]  # unreadable-file notifications annotated
    omitted: int  # failures (and error notifications) left out by the limits


def plan_annotations(result: ScanResult) -> AnnotationPlan:
    """Unreadable files first, then unsuppressed failures, most severe first, capped per level."""
    room = dict(ANNOTATION_LIMITS)
    problems = sorted((n for n in result.notifications if n.is_error),
                      key=lambda n: (n.path, n.line or 0, n.message))
    errors = tuple(problems[:room["error"]])
    room["error"] -= len(errors)
    omitted = len(problems) - len(errors)
    annotated = []
    for finding in sorted(result.failures, key=most_severe_first):
        level = LEVELS[finding.rule.severity]
        if room[level] > 0:
            room[level] -= 1
            annotated.append(finding)
        else:
            omitted += 1
    return AnnotationPlan(tuple(annotated), errors, omitted)


def render_github(result: ScanResult) -> str:
    """One workflow command per annotation, then a plain line when the limits left some out."""
    plan = plan_annotations(result)
    lines = [command("error", {"file": n.path, "line": n.line, "title": UNREADABLE_TITLE}, n.message)
             for n in plan.errors]
    lines += [_finding_command(f) for f in plan.annotated]
    if plan.omitted:
        lines.append(f"soc2lint: {plan.omitted} more finding{'s were' if plan.omitted != 1 else ' was'}"
                     f" not annotated (GitHub shows at most {limits()} per step); the text and SARIF "
                     "outputs list them all.")
    return "".join(line + "\n" for line in lines)


def limits() -> str:
    """GitHub's per-step annotation limits in words: '10 errors, 10 warnings and 10 notices'."""
    text = ", ".join(f"{n} {level}s" for level, n in ANNOTATION_LIMITS.items())
    return " and ".join(text.rsplit(", ", 1))


def _finding_command(finding: Finding) -> str:
    span = finding.span
    properties: dict[str, object] = {"file": finding.path, "line": span.line, "endLine": span.end_line}
    if span.end_line == span.line:  # the runner drops columns on multi-line annotations
        properties["col"] = span.column
        if span.end_column >= span.column:
            properties["endColumn"] = span.end_column
    properties["title"] = f"{finding.rule.id} ({finding.rule.severity.value})"
    where = finding.entity.address
    message = f"{finding.message}\nSOC 2: {', '.join(finding.rule.soc2.primary)}" + (
        f" | {where}" if where not in finding.message else "")  # messages usually name it
    return command(LEVELS[finding.rule.severity], properties, message)


def command(name: str, properties: dict[str, object], message: str) -> str:
    """`::name key=value,...::message`, leaving out empty properties as the toolkit does."""
    given = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items()
                     if value not in (None, ""))
    return f"::{name}{' ' + given if given else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A command's message: `%`, CR and LF percent-encoded (`%` first), which the runner decodes;
    other control characters written as escapes, which it shows as they are."""
    text = printable(text, keep="\r\n")
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as a message, plus `:` and `,`, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
