"""JSON output: every outcome, per-rule counts, notifications, the module calls not evaluated.

Schema: schema/report.schema.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from .. import __version__
from ..model import DiffScope, Finding, Notification, ScanResult, Suppression
from . import STATUSES, criterion_counts, severity_counts
from .json_stream import stream_object

SCHEMA_VERSION = "1.4"


def report_data(result: ScanResult) -> dict:
    """The whole report as one dict (for small results and tests; `stream_json` writes it)."""
    return {key: list(value) if isinstance(value, Iterator) else value
            for key, value in report_members(result)}


def stream_json(result: ScanResult) -> Iterator[str]:
    """The report's text in chunks: results, notifications and the other lists item by item."""
    yield from stream_object(report_members(result))
    yield "\n"


def report_members(result: ScanResult) -> list[tuple[str, object]]:
    """The report's members in order; each list is an iterator, its items built as written."""
    per_rule = Counter((f.rule.id, f.status) for f in result.findings)
    outcomes = Counter(f.status for f in result.findings)
    kinds = Counter(f.suppression.kind for f in result.suppressed)
    return list({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "soc2lint", "version": __version__},
        "summary": {
            "files_scanned": len(result.files),
            "rules_evaluated": len(result.rules),
            "outcomes": {k: outcomes.get(k, 0) for k in STATUSES},
            "suppressed_by_kind": {k: kinds.get(k, 0) for k in ("inline", "config", "baseline")},
            "failures_by_severity": severity_counts(result.findings),
            "by_criterion": criterion_counts(result),
            "errors": sum(1 for n in result.notifications if n.is_error),
        },
        "rules": (
            {
                "id": rule.id, "title": rule.title, "severity": rule.severity.value,
                "soc2": {"primary": list(rule.soc2.primary),
                         "secondary": list(rule.soc2.secondary)},
                "tags": list(rule.tags), "precision": rule.precision,
                "counts": {k: per_rule.get((rule.id, k), 0) for k in STATUSES},
            }
            for rule in result.rules
        ),
        "results": map(result_data, result.findings),
        "notifications": map(notification_data, result.notifications),
        "module_calls_not_evaluated": (
            {"file": m.path, "line": m.line, "address": m.address, "source": m.source, "version": m.version}
            for m in result.module_calls_not_evaluated
        ),
        "files": iter(result.files),
        "skipped": ({"file": path, "reason": reason} for path, reason in result.skipped),
        "frameworks": list(result.frameworks),
        "diff": diff_data(result.diff),
    }.items())


def result_data(f: Finding) -> dict:
    """One result of the report."""
    return {
        "rule_id": f.rule.id, "outcome": f.outcome.value, "status": f.status,
        "severity": f.rule.severity.value, "message": f.message,
        "file": f.path, "line": f.span.line, "column": f.span.column,
        "end_line": f.span.end_line, "end_column": f.span.end_column,
        "entity": {"framework": f.entity.framework, "kind": f.entity.kind,
                   "type": f.entity.type, "address": f.entity.address,
                   "instance_key": f.entity.instance_key},
        "soc2": list(f.rule.soc2.primary),
        "fingerprint": f.fingerprint, "unresolved": list(f.unresolved),
        "related_locations": [{"file": r.path, "line": r.span.line, "message": r.message}
                              for r in f.entity.related],
        "suppression": suppression_data(f.suppression),
    }


def notification_data(n: Notification) -> dict:
    """One notification of the report."""
    return {"file": n.path, "line": n.line, "level": n.level, "message": n.message}


def diff_data(diff: DiffScope | None) -> dict | None:
    if diff is None:
        return None
    return {"base": diff.base, "base_commit": diff.base_commit, "files": list(diff.files),
            "deleted": list(diff.deleted), "affected": list(diff.affected),
            "changed_lines_only": diff.lines_only,
            "config_ref": diff.config_ref,
            "exemption_changes": [{"kind": c.kind, "change": c.change, "file": c.path,
                                   "line": c.line, "summary": c.summary, "diff": c.diff}
                                  for c in diff.exemption_changes],
            "exempted": [{"rule_id": e.rule_id, "file": e.path, "line": e.line, "address": e.address,
                          "mechanism": e.mechanism, "source": e.source, "at_base": e.at_base,
                          "message": e.message} for e in diff.exempted]}


def suppression_data(suppression: Suppression | None) -> dict | None:
    if suppression is None:
        return None
    return {"kind": suppression.kind, "justification": suppression.justification,
            "file": suppression.path, "line": suppression.line, "expires": suppression.expires,
            "owner": suppression.owner, "author": suppression.author, "commit": suppression.commit,
            "date": suppression.date}


def render_json(result: ScanResult) -> str:
    return "".join(stream_json(result))
