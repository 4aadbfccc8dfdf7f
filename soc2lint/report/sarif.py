"""SARIF 2.1.0 built with sarif-om, serialised without sarif-om's placeholder defaults."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from .. import __version__
from ..fingerprint import FINGERPRINT_KEY
from ..model import Finding, Outcome, Rule, ScanResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/soc2lint/soc2lint"
DEFAULT_CATEGORY = "soc2lint/"
# GitHub's limits for one upload: results per run (of which it keeps the most severe SHOWN_RESULTS),
# locations per result, and the size of the file once gzip-compressed.
MAX_RESULTS = 25_000
SHOWN_RESULTS = 5_000
MAX_LOCATIONS = 1_000
MAX_GZIP_BYTES = 10_000_000
# sarif-om fills these with sentinels (-1, "fail", "en-US") that must not reach the file.
_SENTINEL_FIELDS = {"kind", "rank", "rule_index", "index", "id", "char_offset", "byte_offset",
                    "language", "newline_sequences", "contents", "enabled"}


def render_sarif(result: ScanResult, include_unknown: bool = False,
                 category: str | None = None, include_suppressed: bool = False) -> str:
    """The log as text; when it would exceed MAX_GZIP_BYTES compressed, the least severe
    results are left out (with a notification) until it fits."""
    limit = None
    while True:
        log = build_log(result, include_unknown, category, include_suppressed, limit)
        text = json.dumps(serialise(log), indent=2, ensure_ascii=False) + "\n"
        size = compressed_size(text)
        kept = len(log.runs[0].results)
        if size <= MAX_GZIP_BYTES or kept == 0:
            return text
        # results are roughly alike in size: scale down, with a margin so one more pass suffices
        limit = min(kept - 1, int(kept * MAX_GZIP_BYTES / size * 0.9))


def compressed_size(text: str) -> int:
    """Bytes once gzip-compressed; text already under the limit uncompressed is not compressed."""
    raw = text.encode("utf-8")
    if len(raw) <= MAX_GZIP_BYTES:
        return len(raw)
    return len(gzip.compress(raw, compresslevel=6, mtime=0))


def build_log(result: ScanResult, include_unknown: bool = False,
              category: str | None = None, include_suppressed: bool = False,
              limit: int | None = None) -> om.SarifLog:
    """Failures (and, when asked, undecided and suppressed results) as one SARIF run.

    At most MAX_RESULTS results (or `limit`, when the file must shrink to fit GitHub's size
    limit): the most severe are kept, unsuppressed failures before suppressed ones and before
    undecided results, and a notification says how many were left out.
    """
    rules = list(result.rules)
    descriptors = [_descriptor(rule) for rule in rules]
    index = {rule.id: i for i, rule in enumerate(rules)}

    def wanted(finding: Finding, outcome: Outcome) -> bool:
        return finding.outcome is outcome and (include_suppressed or not finding.suppression)

    def priority(finding: Finding) -> tuple:
        return (finding.outcome is not Outcome.FAIL, finding.suppression is not None,
                -finding.rule.severity.rank)

    selected = [f for f in result.findings if wanted(f, Outcome.FAIL)]
    unknowns = [f for f in result.findings if wanted(f, Outcome.UNKNOWN)] if include_unknown \
        else []
    for finding in unknowns:
        key = f"{finding.rule.id}/unresolved"
        if key not in index:
            index[key] = len(descriptors)
            descriptors.append(_descriptor(finding.rule, unresolved=True))
    ordered = sorted(selected + unknowns, key=priority)
    notifications = [_notification(n.path, n.message, n.level, n.line)
                     for n in result.notifications]
    cap = MAX_RESULTS if limit is None else min(limit, MAX_RESULTS)
    if len(ordered) > cap:
        why = (f"GitHub accepts at most {MAX_RESULTS:,} per run" if cap == MAX_RESULTS else
               f"GitHub rejects a SARIF file larger than {MAX_GZIP_BYTES / 1_000_000:g} MB "
               "gzip-compressed")
        notifications.append(_notification(
            None, f"{len(ordered) - cap:,} of {len(ordered):,} results left out: {why}; "
            "the most severe were kept", "warning", None))
        ordered = ordered[:cap]
    if len(ordered) > SHOWN_RESULTS:
        notifications.append(_notification(
            None, f"{len(ordered):,} results: GitHub code scanning shows only the "
            f"{SHOWN_RESULTS:,} most severe of a run", "note", None))
    ordered.sort(key=lambda f: (f.path, f.span.line, f.span.column, f.rule.id))
    results = [_result(f, index) for f in ordered]
    run = om.Run(
        tool=om.Tool(driver=om.ToolComponent(
            name="soc2lint", semantic_version=__version__, version=__version__,
            information_uri=INFORMATION_URI, rules=descriptors)),
        automation_details=om.RunAutomationDetails(id=category or DEFAULT_CATEGORY),
        column_kind="unicodeCodePoints",
        invocations=[om.Invocation(
            execution_successful=not any(n.is_error for n in result.notifications),
            tool_execution_notifications=notifications or None)],
        results=results,
    )
    return om.SarifLog(runs=[run], version="2.1.0", schema_uri=SCHEMA_URI)


def _descriptor(rule: Rule, unresolved: bool = False) -> om.ReportingDescriptor:
    tags = ["security", *rule.tags, *(f"soc2/{c}" for c in rule.soc2.all)][:20]
    properties: dict[str, Any] = {"tags": tags, "precision": rule.precision}
    if not unresolved:
        properties["security-severity"] = rule.severity.security_severity
    full = rule.description or rule.title
    title = rule.title if not unresolved else f"{rule.title} (value not resolved)"
    return om.ReportingDescriptor(
        id=f"{rule.id}/unresolved" if unresolved else rule.id,
        name=_pascal(rule.id) + ("Unresolved" if unresolved else ""),
        short_description=om.MultiformatMessageString(text=title[:1024]),
        full_description=om.MultiformatMessageString(text=full[:1024]),
        help=om.MultiformatMessageString(text=_help_text(rule), markdown=_help_markdown(rule)),
        help_uri=rule.help_uri or (rule.references[0] if rule.references else INFORMATION_URI),
        default_configuration=om.ReportingConfiguration(
            level="note" if unresolved else rule.severity.sarif_level),
        properties=properties,
    )


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _help_text(rule: Rule) -> str:
    parts = [rule.description or rule.title]
    if rule.remediation:
        parts.append(f"Remediation: {rule.remediation}")
    if rule.limitations:
        parts.append(f"Limitations: {rule.limitations}")
    parts.append("SOC 2: " + ", ".join(rule.soc2.all))
    return "\n\n".join(p.strip() for p in parts)


def _help_markdown(rule: Rule) -> str:
    parts = [f"**{rule.title}**", (rule.description or "").strip()]
    if rule.remediation:
        parts.append(f"**Remediation.** {rule.remediation.strip()}")
    if rule.limitations:
        parts.append(f"**Limitations.** {rule.limitations.strip()}")
    parts.append("**SOC 2 criteria.** Primary: " + ", ".join(rule.soc2.primary)
                 + ("; secondary: " + ", ".join(rule.soc2.secondary) if rule.soc2.secondary
                    else ""))
    if rule.references:
        parts.append("**References.**\n" + "\n".join(f"- <{r}>" for r in rule.references))
    return "\n\n".join(p for p in parts if p)


def artifact_uri(path: str) -> str:
    """A repository-relative POSIX path, percent-encoded; absolute paths become file URIs."""
    if path.startswith("/"):
        return "file://" + quote(path, safe="/")
    return quote(path, safe="/")


def _location(path: str, span) -> om.Location:
    region = om.Region(start_line=span.line, start_column=span.column,
                       end_line=span.end_line, end_column=max(span.end_column, 1) + 1)
    return om.Location(physical_location=om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=artifact_uri(path)), region=region))


def _related(index: int, related) -> om.Location:
    location = _location(related.path, related.span)
    location.id = index
    location.message = om.Message(text=related.message)
    return location


def _result(finding: Finding, index: dict[str, int]) -> om.Result:
    unresolved = finding.outcome is Outcome.UNKNOWN
    rule_id = f"{finding.rule.id}/unresolved" if unresolved else finding.rule.id
    text = finding.message
    if not text.endswith((".", "!", "?")):
        text += "."
    # one location plus related ones: GitHub accepts at most MAX_LOCATIONS per result
    related = finding.entity.related[:MAX_LOCATIONS - 1]
    properties: dict[str, Any] = {"soc2": list(finding.rule.soc2.primary),
                                  "resource": finding.entity.address}
    if len(finding.entity.related) > len(related):
        properties["relatedLocationsLeftOut"] = len(finding.entity.related) - len(related)
    return om.Result(
        rule_id=rule_id, rule_index=index[rule_id],
        level="note" if unresolved else finding.rule.severity.sarif_level,
        message=om.Message(text=text), locations=[_location(finding.path, finding.span)],
        related_locations=[_related(i, r) for i, r in enumerate(related)] or None,
        partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        properties=properties,
        suppressions=[_suppression(finding.suppression)] if finding.suppression else None,
    )


def _suppression(suppression) -> dict:
    """An ignore written in the file is `inSource`; the config file and baseline are `external`.

    A plain mapping: sarif-om's Suppression predates SARIF 2.1.0's `status` property.
    """
    return {"kind": "inSource" if suppression.kind == "inline" else "external",
            "status": "accepted", "justification": suppression.justification}


def _notification(path: str | None, message: str, level: str, line: int | None):
    locations = None
    if path:
        region = om.Region(start_line=line) if line else None
        locations = [om.Location(physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=artifact_uri(path)), region=region))]
    text = f"{path}: {message}" if path else message
    return om.Notification(message=om.Message(text=text), level=level, locations=locations)


def serialise(value: Any) -> Any:
    """attrs objects -> camelCase dicts; None and sentinel defaults are left out."""
    if attr.has(type(value)):
        out = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            if item is None:
                continue
            default = field.default
            if isinstance(default, attr.Factory):
                default = default.factory()
            if field.name in _SENTINEL_FIELDS and item == default:
                continue
            out[field.metadata["schema_property_name"]] = serialise(item)
        return out
    if isinstance(value, dict):
        return {k: serialise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [serialise(v) for v in value]
    return value
