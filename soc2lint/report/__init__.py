"""Renderers: one module per output format, each a pure function of a ScanResult."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from ..model import ExemptedFailure, Finding, Outcome, ScanResult, Severity

FORMATS = ("text", "json", "sarif", "github", "summary")


STATUSES = ("fail", "pass", "unknown", "suppressed")


def render_chunks(fmt: str, result: ScanResult, **options) -> Iterator[str]:
    """The output in pieces to write one after another: JSON is produced result by result,
    so a large report never exists as one string; the other formats come in one piece."""
    if fmt == "json":
        from .json_report import stream_json

        yield from stream_json(result)
        return
    yield render(fmt, result, **options)


def render(fmt: str, result: ScanResult, **options) -> str:
    if fmt == "text":
        from .text import TextLayout, render_text

        return render_text(result, options.get("layout") or TextLayout())
    if fmt == "json":
        from .json_report import render_json

        return render_json(result)
    if fmt == "sarif":
        from .sarif import render_sarif

        return render_sarif(result, include_unknown=options.get("include_unknown", False),
                            category=options.get("category"),
                            include_suppressed=options.get("include_suppressed", False))
    if fmt == "github":
        from .github import render_github

        return render_github(result)
    if fmt == "summary":
        from .summary import render_summary

        return render_summary(result, link_base=options.get("link_base"))
    raise ValueError(f"unknown format {fmt}")


def most_severe_first(finding: Finding) -> tuple:
    """Sort key: severity (most severe first), then file, line and rule, for stable output."""
    return -finding.rule.severity.rank, finding.path, finding.span.line, finding.rule.id


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Failures that count (not suppressed), by severity, most severe first."""
    counts = Counter(f.rule.severity for f in findings if f.status == "fail")
    return {s.value: counts.get(s, 0) for s in sorted(Severity, key=lambda s: -s.rank)}


def criterion_counts(result: ScanResult) -> dict[str, dict[str, int]]:
    """Per SOC 2 criterion: failures (suppressed or not) count against primaries; passes and
    unknowns concern all the rule's criteria."""
    table: dict[str, dict[str, int]] = {}
    for finding in result.findings:
        criteria = (finding.rule.soc2.primary if finding.outcome is Outcome.FAIL
                    else finding.rule.soc2.all)
        for criterion in criteria:
            row = table.setdefault(criterion, dict.fromkeys(STATUSES, 0))
            row[finding.status] += 1
    return dict(sorted(table.items(), key=lambda kv: _criterion_key(kv[0])))


def _criterion_key(criterion: str) -> tuple:
    prefix = criterion.rstrip("0123456789.")
    order = ["CC", "A", "C", "PI", "P"]
    numbers = tuple(int(p) for p in criterion[len(prefix):].split(".") if p.isdigit())
    return (order.index(prefix) if prefix in order else 9, numbers)


_EXEMPTED_BY = {"inline": "inline ignore at {}", "config": "configuration ignore at {}",
                "baseline": "baseline {}", "deselected": "rule not selected by {}",
                "excluded": "path excluded by {}"}


def exempted_by(exempted: ExemptedFailure) -> str:
    """How a change exempts a failure, and what the failure was at the base, in words."""
    before = "failing at the base" if exempted.at_base == "failing" else "new since the base"
    return f"{_EXEMPTED_BY[exempted.mechanism].format(exempted.source)}; {before}"
