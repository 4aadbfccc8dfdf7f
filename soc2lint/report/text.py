"""Human-readable output: findings grouped by file, then unknowns, problems and a summary."""

from __future__ import annotations

from collections import Counter, defaultdict

import click

from ..model import ScanResult
from . import criterion_counts, severity_counts

_COLOURS = {"critical": "magenta", "high": "red", "medium": "yellow", "low": "blue"}


def render_text(result: ScanResult, color: bool = False) -> str:
    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if color else text

    lines: list[str] = []
    by_file = defaultdict(list)
    for finding in result.failures:
        by_file[finding.path].append(finding)
    for path in sorted(by_file):
        lines.append(style(path, bold=True, underline=True))
        for f in by_file[path]:
            sev = f.rule.severity.value
            lines.append(
                f"  {f.span.line}:{f.span.column}  "
                f"{style(sev.upper().ljust(8), fg=_COLOURS[sev], bold=True)} "
                f"{style(f.rule.id, fg='cyan')}  {f.message}"
                f"  [{', '.join(f.rule.soc2.primary)}]"
            )
            for related in f.entity.related:
                lines.append(f"      see {related.path}:{related.span.line} ({related.message})")
        lines.append("")
    if result.unknowns:
        lines.append(style("Not decided (values not resolved):", bold=True))
        for f in result.unknowns:
            lines.append(f"  {f.path}:{f.span.line}  {f.rule.id}  {f.entity.name}: "
                         f"depends on {', '.join(f.unresolved) or 'an unresolved value'}")
        lines.append("")
    if result.notifications:
        lines.append(style("Scan problems:", bold=True))
        for n in result.notifications:
            where = f"{n.path}:{n.line}" if n.line else n.path
            lines.append(f"  {style(n.level, fg='red' if n.is_error else 'yellow')}  "
                         f"{where}: {n.message}")
        lines.append("")
    lines.extend(_exemptions(result, style))
    lines.extend(_summary(result, style))
    return "\n".join(lines) + "\n"


def _exemptions(result: ScanResult, style) -> list[str]:
    """On a diff base: the ignores, configuration, baseline and rule files the change touches."""
    changes = result.diff.exemption_changes if result.diff else ()
    if not changes:
        return []
    lines = [style(f"Changes that could exempt code since {result.diff.base_label}:", bold=True)]
    for change in changes:
        where = f"{change.path}:{change.line}" if change.line else change.path
        lines.append(f"  {change.kind} {change.change}  {where}  {change.summary}")
        lines.extend(f"    {line}" for line in change.diff.splitlines())
    return [*lines, ""]


def _summary(result: ScanResult, style) -> list[str]:
    statuses = Counter(f.status for f in result.findings)
    sev = severity_counts(result.findings)
    lines = [
        style("Summary", bold=True),
        f"  {len(result.files)} files, {len(result.rules)} rules: "
        f"{statuses['fail']} failed, {statuses['pass']} passed, {statuses['unknown']} unknown"
        + (f", {statuses['suppressed']} suppressed" if statuses["suppressed"] else ""),
        "  failures by severity: " + ", ".join(f"{k} {v}" for k, v in sev.items()),
    ]
    if result.diff:
        scope = "changed lines" if result.diff.lines_only else "changed files"
        lines.insert(1, f"  {scope} since {result.diff.base_label}"
                     + (f"; configuration as of {result.diff.config_ref}" if result.diff.config_ref else ""))
    table = criterion_counts(result)
    if table:
        lines.append("  by SOC 2 criterion (fail/pass/unknown/suppressed):")
        for criterion, row in table.items():
            lines.append(f"    {criterion:<6} {row['fail']:>4} {row['pass']:>5} {row['unknown']:>4}"
                         f" {row['suppressed']:>4}")
    errors = sum(1 for n in result.notifications if n.is_error)
    if errors:
        lines.append(style(f"  {errors} file(s) could not be scanned; the scan is incomplete",
                           fg="red"))
    for reason, count in sorted(Counter(reason for _, reason in result.skipped).items()):
        lines.append(f"  {count} file(s) not checked: {reason}")
    return lines
