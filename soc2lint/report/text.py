"""Human-readable output: findings grouped by file, then unknowns, problems and a summary.

Every value read from the scanned files goes through `printable`, so none can start a line of
the output (a CI log runs `::command::` lines) or send a terminal escape sequence.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import click

from ..model import ScanResult
from . import criterion_counts, exempted_by, severity_counts
from .escape import printable

_COLOURS = {"critical": "magenta", "high": "red", "medium": "yellow", "low": "blue"}


def render_text(result: ScanResult, color: bool = False) -> str:
    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if color else text

    lines: list[str] = []
    by_file = defaultdict(list)
    for finding in result.failures:
        by_file[finding.path].append(finding)
    for path in sorted(by_file):
        lines.append(style(printable(path), bold=True, underline=True))
        for f in by_file[path]:
            sev = f.rule.severity.value
            lines.append(
                f"  {f.span.line}:{f.span.column}  "
                f"{style(sev.upper().ljust(8), fg=_COLOURS[sev], bold=True)} "
                f"{style(printable(f.rule.id), fg='cyan')}  {printable(f.message)}"
                f"  [{', '.join(f.rule.soc2.primary)}]"
            )
            for related in f.entity.related:
                lines.append(f"      see {printable(related.path)}:{related.span.line} "
                             f"({printable(related.message)})")
        lines.append("")
    if result.unknowns:
        lines.append(style("Not decided (values not resolved):", bold=True))
        for f in result.unknowns:
            unresolved = printable(", ".join(f.unresolved)) or "an unresolved value"
            lines.append(f"  {printable(f.path)}:{f.span.line}  {printable(f.rule.id)}  "
                         f"{printable(f.entity.name)}: depends on {unresolved}")
        lines.append("")
    if result.notifications:
        lines.append(style("Scan problems:", bold=True))
        for n in result.notifications:
            where = printable(f"{n.path}:{n.line}: " if n.line else f"{n.path}: " if n.path else "")
            lines.append(f"  {style(n.level, fg='red' if n.is_error else 'yellow')}  "
                         f"{where}{printable(n.message)}")
        lines.append("")
    lines.extend(_exemptions(result, style))
    lines.extend(_summary(result, style))
    return "\n".join(lines) + "\n"


def _exemptions(result: ScanResult, style) -> list[str]:
    """On a diff base: the ignores, configuration, baseline and rule files the change touches,
    and the failures it exempts."""
    changes = result.diff.exemption_changes if result.diff else ()
    exempted = result.diff.exempted if result.diff else ()
    lines: list[str] = []
    since = printable(result.diff.base_label) if result.diff else ""
    if changes:
        lines.append(style(f"Changes that could exempt code since {since}:", bold=True))
        for change in changes:
            where = printable(f"{change.path}:{change.line}" if change.line else change.path)
            lines.append(f"  {change.kind} {change.change}  {where}  {printable(change.summary)}")
            lines.extend(f"    {printable(line)}" for line in _lines(change.diff))
        lines.append("")
    if exempted:
        lines.append(style(f"Failures this change exempts ({len(exempted)}):", bold=True))
        lines.extend(f"  {printable(e.path)}:{e.line}  {printable(e.rule_id)}  {printable(e.address)}  "
                     f"{printable(exempted_by(e))}" for e in exempted)
        lines.append("")
    return lines


def _lines(text: str) -> list[str]:
    """The lines of `text`, split at line feeds only: a CR or U+2028 is shown as an escape."""
    return text.removesuffix("\n").split("\n") if text else []


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
        ref = result.diff.config_ref
        lines.insert(1, f"  {scope} since {printable(result.diff.base_label)}"
                     + (f"; configuration as of {printable(ref)}" if ref else ""))
    table = criterion_counts(result)
    if table:
        lines.append("  by SOC 2 criterion (fail/pass/unknown/suppressed):")
        for criterion, row in table.items():
            lines.append(f"    {criterion:<6} {row['fail']:>4} {row['pass']:>5} {row['unknown']:>4}"
                         f" {row['suppressed']:>4}")
    errors = sum(1 for n in result.notifications if n.is_error)
    if errors:
        lines.append(style(f"  {errors} input error(s): the scan is incomplete",
                           fg="red"))
    for reason, count in sorted(Counter(reason for _, reason in result.skipped).items()):
        lines.append(f"  {count} file(s) not checked: {printable(reason)}")
    return lines
