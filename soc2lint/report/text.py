"""Human-readable output: findings grouped by file, each with the first step of its fix, then
unknowns, problems, files not checked and a summary.

Every value read from the scanned files goes through `printable`, so none can start a line of
the output (a CI log runs `::command::` lines) or send a terminal escape sequence.

Layouts: the default (a heading per file, the fix under each finding, wrapped at `width` on a
terminal); `compact` (one `path:line:col:` line per finding, never wrapped); `quiet` (only
failures and errors, no summary).
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass

import click

from ..model import Finding, ScanResult
from . import criterion_counts, exempted_by, severity_counts
from .escape import one_line, printable

_COLOURS = {"critical": "magenta", "high": "red", "medium": "yellow", "low": "blue"}
SKIPPED_SHOWN = 10  # files named per reason; JSON `skipped` lists every one
# a sentence ends at . ! or ? before a capital, a quote or code; "e.g." and "i.e." do not end one
_SENTENCE_END = re.compile(r"(?<![ei]\.[ge]\.)(?<=[.!?])\s+(?=[A-Z`'\"])")


@dataclass(frozen=True)
class TextLayout:
    """How the text report is laid out: colour, wrapping width (None: never wrap), one line
    per finding, only failures and errors."""

    color: bool = False
    width: int | None = None
    compact: bool = False
    quiet: bool = False


def first_sentence(text: str) -> str:
    """The first sentence of a rule's remediation, on one line."""
    return _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]


def render_text(result: ScanResult, layout: TextLayout = TextLayout()) -> str:
    def style(text: str, **kwargs) -> str:
        return click.style(text, **kwargs) if layout.color else text

    lines: list[str] = []
    if layout.compact:
        lines.extend(_compact_failure(f, style) for f in sorted(result.failures, key=_by_place))
    else:
        lines.extend(_failures_by_file(result, style, layout.width))
    errors = [n for n in result.notifications if n.is_error]
    if layout.quiet:
        lines.extend(_notification(n, style, layout) for n in errors)
        return "\n".join(lines) + "\n" if lines else ""
    if layout.compact and result.failures:
        lines.append("")
    if result.unknowns:
        lines.append(style("Not decided (values not resolved):", bold=True))
        lines.extend(_unknown(f, layout) for f in result.unknowns)
        lines.append("")
    if result.notifications:
        lines.append(style("Scan problems:", bold=True))
        lines.extend(_notification(n, style, layout) for n in result.notifications)
        lines.append("")
    lines.extend(_not_checked(result, style))
    lines.extend(_exemptions(result, style))
    lines.extend(_summary(result, style, layout.width))
    return "\n".join(lines) + "\n"


def _by_place(finding: Finding) -> tuple:
    return finding.path, finding.span.line, finding.span.column, finding.rule.id


def _failures_by_file(result: ScanResult, style, width: int | None) -> list[str]:
    """Per file, each failure: where, severity, rule, message and criteria, then the first
    sentence of its remediation and where to read more."""
    lines: list[str] = []
    by_file = defaultdict(list)
    for finding in result.failures:
        by_file[finding.path].append(finding)
    for path in sorted(by_file):
        lines.append(style(printable(path), bold=True, underline=True))
        for f in by_file[path]:
            sev = f.rule.severity.value
            where = f"  {f.span.line}:{f.span.column}  "
            head = (f"{where}{style(sev.upper().ljust(8), fg=_COLOURS[sev], bold=True)} "
                    f"{style(printable(f.rule.id), fg='cyan')}  ")
            text = f"{printable(f.message)}  [{', '.join(f.rule.soc2.primary)}]"
            lines.append(_hanging(head, text, "      ", width))
            fix = one_line(first_sentence(f.rule.remediation)) if f.rule.remediation else ""
            more = f"soc2lint explain {printable(f.rule.id)}"
            lines.append(_hanging("      fix: ",
                                  f"{fix} ({more})" if fix else more, "           ", width))
            for related in f.entity.related:
                lines.append(_hanging("      ", f"see {printable(related.path)}:"
                                      f"{related.span.line} ({printable(related.message)})",
                                      "        ", width))
        lines.append("")
    return lines


def _compact_failure(f: Finding, style) -> str:
    sev = f.rule.severity.value
    return (f"{printable(f.path)}:{f.span.line}:{f.span.column}: "
            f"{style(sev.upper(), fg=_COLOURS[sev], bold=True)} {style(printable(f.rule.id), fg='cyan')} "
            f"{printable(f.message)} [{', '.join(f.rule.soc2.primary)}]")


def _unknown(f: Finding, layout: TextLayout) -> str:
    unresolved = printable(", ".join(f.unresolved)) or "an unresolved value"
    if layout.compact:
        return (f"{printable(f.path)}:{f.span.line}:{f.span.column}: UNKNOWN {printable(f.rule.id)} "
                f"{printable(f.entity.name)}: depends on {unresolved}")
    return _hanging("  ", f"{printable(f.path)}:{f.span.line}  {printable(f.rule.id)}  "
                    f"{printable(f.entity.name)}: depends on {unresolved}", "      ", layout.width)


def _notification(n, style, layout: TextLayout) -> str:
    where = printable(f"{n.path}:{n.line}: " if n.line else f"{n.path}: " if n.path else "")
    level = style(n.level, fg="red" if n.is_error else "yellow")
    if layout.compact:
        return f"{where}{level}: {printable(n.message)}"
    return _hanging(f"  {level}  ", f"{where}{printable(n.message)}", "    ", layout.width)


def _hanging(head: str, text: str, indent: str, width: int | None) -> str:
    """`head` (which may be coloured) then `text`, wrapped at `width` with later lines indented;
    no wrapping when `width` is None."""
    if width is None:
        return head + text
    plain_head = click.unstyle(head)  # values in it went through `printable`: no escapes of their own
    wrapped = textwrap.wrap(text, width=max(width, len(plain_head) + 20),
                            initial_indent=" " * len(plain_head), subsequent_indent=indent,
                            break_on_hyphens=False, break_long_words=False)
    if not wrapped:
        return head.rstrip()
    return "\n".join([head + wrapped[0][len(plain_head):], *wrapped[1:]])


def _not_checked(result: ScanResult, style) -> list[str]:
    """The files read but not checked, by reason: the first few of each named."""
    if not result.skipped:
        return []
    by_reason: dict[str, list[str]] = defaultdict(list)
    for path, reason in result.skipped:
        by_reason[reason].append(path)
    lines = [style("Not checked:", bold=True)]
    for reason, paths in sorted(by_reason.items()):
        lines.append(f"  {printable(reason)} ({len(paths)}):")
        lines.extend(f"    {printable(p)}" for p in paths[:SKIPPED_SHOWN])
        if len(paths) > SKIPPED_SHOWN:
            lines.append(f"    and {len(paths) - SKIPPED_SHOWN} more (-f json lists them under skipped)")
    lines.append("")
    return lines


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


def _criteria(table: dict[str, dict[str, int]], width: int | None) -> list[str]:
    """Per SOC 2 criterion, a row for each with a failure, unknown or suppressed result; the
    criteria with passes only on one line after them."""
    mixed = {c: row for c, row in table.items() if row["fail"] or row["unknown"] or row["suppressed"]}
    lines = ["  by SOC 2 criterion (fail/pass/unknown/suppressed):"] if mixed else []
    lines.extend(f"    {criterion:<6} {row['fail']:>4} {row['pass']:>5} {row['unknown']:>4}"
                 f" {row['suppressed']:>4}" for criterion, row in mixed.items())
    passing = [f"{c} ({row['pass']})" for c, row in table.items() if c not in mixed]
    if passing:
        lines.append(_hanging("  ", "passes only: " + ", ".join(passing), "    ", width))
    return lines


def _summary(result: ScanResult, style, width: int | None = None) -> list[str]:
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
    lines.extend(_criteria(criterion_counts(result), width))
    errors = sum(1 for n in result.notifications if n.is_error)
    if errors:
        lines.append(style(f"  {errors} input error(s): the scan is incomplete",
                           fg="red"))
    for reason, count in sorted(Counter(reason for _, reason in result.skipped).items()):
        lines.append(f"  {count} file(s) not checked: {printable(reason)}")
    return lines
