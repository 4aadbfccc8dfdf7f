"""The job summary for GitHub Actions (`$GITHUB_STEP_SUMMARY`): counts by severity and SOC 2
criterion, the top findings with links, what was not annotated, and on a pull request every
change that could exempt code. Markdown, kept under GitHub's 1 MiB limit."""

from __future__ import annotations

from urllib.parse import quote

from ..model import DiffScope, ExemptionChange, Finding, ScanResult
from . import criterion_counts, exempted_by, most_severe_first, severity_counts
from .escape import fence_for, markdown_code, printable
from .escape import markdown_cell as cell

MAX_BYTES = 1024 * 1024 - 4096  # GitHub's limit per step, with room for the caller's lines
TOP_FINDINGS = 30
MAX_EXEMPTION_ROWS = 200


def render_summary(result: ScanResult, link_base: str | None = None) -> str:
    head = _head(result)
    tail = _exemptions(result.diff, link_base) + _problems(result)
    shown = min(TOP_FINDINGS, len(result.failures))
    while True:
        text = "\n".join([*head, *_findings(result, link_base, shown), *tail]) + "\n"
        if len(text.encode("utf-8")) <= MAX_BYTES:
            return text
        if shown == 0:
            return _truncate(text)
        shown //= 2


def _truncate(text: str) -> str:
    """The text cut at a line boundary under the limit, saying so."""
    note = "\n_The summary was cut here: GitHub accepts at most 1 MiB per step._\n"
    room = MAX_BYTES - len(note.encode("utf-8"))
    cut = text.encode("utf-8")[:room].decode("utf-8", "ignore")
    while True:
        cut = cut[:cut.rfind("\n") + 1]
        fence = _open_fence(cut)
        if len(cut.encode("utf-8")) + len(fence) + 1 <= room:
            return cut + (fence + "\n" if fence else "") + note
        cut = cut[:-1]


def _open_fence(text: str) -> str:
    """The fence of a code block that `text` leaves open, or ''."""
    fence = ""
    for line in text.splitlines():
        if not fence and line.startswith("```"):
            fence = line[:len(line) - len(line.lstrip("`"))]
        elif fence and line == fence:
            fence = ""
    return fence


def _head(result: ScanResult) -> list[str]:
    failures = len(result.failures)
    title = (f"## soc2lint: {failures} failing check{'s' if failures != 1 else ''}" if failures
             else "## soc2lint: no failing checks")
    lines = [title, ""]
    if result.diff:
        lines += [_scope(result.diff), ""]
    statuses = {s: sum(1 for f in result.findings if f.status == s)
                for s in ("fail", "pass", "unknown", "suppressed")}
    lines.append(f"{len(result.files)} files, {len(result.rules)} rules: {statuses['fail']} failed, "
                 f"{statuses['pass']} passed, {statuses['unknown']} undecided, "
                 f"{statuses['suppressed']} suppressed (ignored or baselined).")
    errors = [n for n in result.notifications if n.is_error]
    if errors:
        lines.append(f"**{len(errors)} input error(s)**: the scan is incomplete; see below.")
    lines += ["", "| severity | failing |", "|---|---:|"]
    lines += [f"| {severity} | {count} |" for severity, count in severity_counts(result.findings).items()]
    table = criterion_counts(result)
    if table:
        from ..rules import criteria_titles

        titles = criteria_titles()
        lines += ["", "| SOC 2 criterion | | failing | passing | undecided | suppressed |",
                  "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {c} | {cell(titles.get(c, ''))} | {row['fail']} | {row['pass']} | "
                  f"{row['unknown']} | {row['suppressed']} |" for c, row in table.items()]
    return [*lines, ""]


def _scope(diff: DiffScope) -> str:
    what = "findings on changed lines" if diff.lines_only else "findings in changed files"
    text = (f"> Pull request view: {what} since {cell(diff.base_label)}: "
            f"{len(diff.files)} changed file(s) scanned")
    if diff.deleted:
        text += f", {len(diff.deleted)} deleted"
    if diff.affected:
        text += (f", and new failures in {len(diff.affected)} unchanged file(s) of the changed "
                 "Terraform modules")
    text += ". Code scanning receives the full scan."
    if diff.exempted:
        text += (f" **{len(diff.exempted)} failure(s) are exempted by this change** "
                 "(listed below).")
    if diff.config_ref:
        ref = diff.config_ref
        ref = ref[:12] if len(ref) == 40 and all(c in "0123456789abcdef" for c in ref) else ref
        text += f" Configuration and baseline read as of {markdown_code(ref, table=False)}."
    return text


def _findings(result: ScanResult, link_base: str | None, count: int) -> list[str]:
    failures = sorted(result.failures, key=most_severe_first)
    if not failures:
        return []
    lines = ["### Top findings", "", "| severity | rule | where | finding | SOC 2 |",
             "|---|---|---|---|---|"]
    lines += [_finding_row(f, link_base) for f in failures[:count]]
    if len(failures) > count:
        lines += ["", f"... and {len(failures) - count} more: code scanning and "
                  "`soc2lint scan` list them all."]
    from .github import limits, plan_annotations

    omitted = plan_annotations(result).omitted
    if omitted:
        lines += ["", f"{omitted} finding(s) were not annotated: GitHub shows at most {limits()} "
                  "per step."]
    return [*lines, ""]


def _finding_row(finding: Finding, link_base: str | None) -> str:
    where = _link(finding.path, finding.span.line, link_base)
    return (f"| {finding.rule.severity.value} | {markdown_code(finding.rule.id)} | {where} | "
            f"{cell(finding.message)} | {', '.join(finding.rule.soc2.primary)} |")


def _link(path: str, line: int | None, link_base: str | None, table: bool = True) -> str:
    """`path:line` linked to the file at `link_base` (label escaped, URL percent-encoded), or
    as code without a link base."""
    where = f"{path}:{line}" if line else path
    if not link_base:
        return markdown_code(where, table=table)
    anchor = f"#L{line}" if line else ""
    return f"[{cell(printable(where))}]({link_base.rstrip('/')}/{quote(path)}{anchor})"


def _exemptions(diff: DiffScope | None, link_base: str | None) -> list[str]:
    if diff is None:
        return []
    lines = [*_exempted(diff, link_base), "### Changes that could exempt code", ""]
    if not diff.exemption_changes:
        return [*lines, "This change adds or removes no ignore and leaves the configuration, "
                "baseline and rule files as they were.", ""]
    rows = [c for c in diff.exemption_changes if not c.diff]
    if rows:
        lines += ["| change | where | what |", "|---|---|---|"]
        lines += [f"| {_label(c)} | {_where(c, link_base)} | {cell(c.summary)} |"
                  for c in rows[:MAX_EXEMPTION_ROWS]]
        if len(rows) > MAX_EXEMPTION_ROWS:
            lines.append(f"| ... | {len(rows) - MAX_EXEMPTION_ROWS} more | `soc2lint scan --diff-base` "
                         "lists them all |")
        lines.append("")
    for change in (c for c in diff.exemption_changes if c.diff):
        lines += [f"**{_label(change)}**: {_link(change.path, None, None, table=False)}: "
                  f"{cell(change.summary)}", "", *_fenced("diff", change.diff), ""]
    return lines


def _exempted(diff: DiffScope, link_base: str | None) -> list[str]:
    """The failures the change exempts, however the exemption is written."""
    if not diff.exempted:
        return []
    lines = [f"### Failures this change exempts ({len(diff.exempted)})", "",
             "Suppressed, baselined or deselected by this change, while failing at the base or new "
             "since it. They do not fail this run.", "",
             "| rule | where | resource | exempted by |", "|---|---|---|---|"]
    lines += [f"| {markdown_code(e.rule_id)} | {_link(e.path, e.line, link_base)} | "
              f"{markdown_code(e.address)} | {cell(exempted_by(e))} |"
              for e in diff.exempted[:MAX_EXEMPTION_ROWS]]
    if len(diff.exempted) > MAX_EXEMPTION_ROWS:
        lines.append(f"| ... | {len(diff.exempted) - MAX_EXEMPTION_ROWS} more | | `soc2lint scan "
                     "--diff-base` lists them all |")
    return [*lines, ""]


def _fenced(language: str, text: str) -> list[str]:
    """A fenced code block showing `text` as it is: its fence is longer than any backtick run
    in it, control characters other than line ends are escaped."""
    text = printable(text.rstrip("\n"), keep="\n")
    fence = fence_for(text, 3)
    return [fence + language, text, fence]


def _label(change: ExemptionChange) -> str:
    kind = {"inline": "inline ignore", "config": "configuration", "baseline": "baseline",
            "rules": "rule file", "skipped": "file"}[change.kind]
    return f"{kind} {change.change}"


def _where(change: ExemptionChange, link_base: str | None) -> str:
    if change.change == "removed":
        return _link(change.path, change.line, None) + (" (base)" if change.line else "")
    return _link(change.path, change.line, link_base)


def _problems(result: ScanResult) -> list[str]:
    errors = [n for n in result.notifications if n.is_error]
    if not errors:
        return []
    lines = ["### Input errors", ""]
    lines += [f"- {markdown_code(n.path, table=False)}{f' line {n.line}' if n.line else ''}: "
              f"{cell(n.message)}"
              for n in errors[:100]]
    if len(errors) > 100:
        lines.append(f"- ... and {len(errors) - 100} more")
    return [*lines, ""]
