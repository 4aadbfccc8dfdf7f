"""The audit-readiness report's content, as plain data: the JSON format and what the markdown and
HTML templates render.

Each rule is a control test over the entities it inspected; each SOC 2 criterion gathers the tests
that evidence it. Result lines are the tool's own words, never an auditor's opinion. Counts are
the same as `scan --format json` (report.__init__.criterion_counts and per-rule statuses).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..config import Config
from ..gitinfo import Repository
from ..model import Finding, Rule, ScanResult
from ..rules import criteria as criteria_catalogue
from . import STATUSES, criterion_counts
from .json_report import suppression_data

SCHEMA_VERSION = "1.0"
_ENTITY_NOUNS = {
    ("terraform", "resource"): "Terraform resources", ("terraform", "data"): "Terraform data sources",
    ("terraform", "module"): "Terraform module calls", ("terraform", "provider"): "Terraform providers",
    ("kubernetes", "manifest"): "Kubernetes objects", ("kubernetes", "pod"): "Kubernetes pod specs",
    ("kubernetes", "container"): "Kubernetes containers",
    ("github-actions", "workflow"): "GitHub Actions workflows",
    ("github-actions", "job"): "GitHub Actions jobs", ("github-actions", "step"): "GitHub Actions steps",
    ("github-actions", "action"): "GitHub Actions action definitions",
    ("repository", "repository"): "repositories", ("soc2lint", "ignore"): "soc2lint ignores",
}


@dataclass(frozen=True)
class Scope:
    """What was scanned, how, and by what; the report's header."""

    command: str
    generated_on: str
    paths: tuple[str, ...]
    repository: Repository | None = None
    config: Config | None = None
    config_name: str | None = None
    environment: str | None = None


def rules_digest(rules: Sequence[Rule]) -> str:
    """sha256 over each rule's file and effective severity: which rule set produced the report."""
    digest = hashlib.sha256()
    for rule in sorted(rules, key=lambda r: r.id):
        try:
            content = Path(rule.source).read_bytes()
        except OSError:
            content = b""
        digest.update(f"{rule.id}\0{rule.severity.value}\0".encode() + hashlib.sha256(content).digest())
    return digest.hexdigest()


def build_audit(result: ScanResult, scope: Scope, all_rules: Sequence[Rule] = ()) -> dict:
    """The whole report as JSON-ready data."""
    tests = {rule.id: _test(rule, [f for f in result.findings if f.rule.id == rule.id])
             for rule in result.rules}
    counts = criterion_counts(result)
    catalogue = criteria_catalogue()
    evaluated = {c for rule in result.rules for c in rule.soc2.all}
    available = {c for rule in all_rules for c in rule.soc2.all} | evaluated
    criteria = [_criterion(c, result, tests, counts.get(c["id"])) for c in catalogue
                if c["id"] in evaluated]
    statuses = Counter(f.status for f in result.findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "soc2lint-audit-report",
        "scope": _scope(result, scope),
        "summary": {
            "files_scanned": len(result.files), "rules_evaluated": len(result.rules),
            "outcomes": {k: statuses.get(k, 0) for k in STATUSES},
            "exceptions": sum(1 for f in result.suppressed if f.suppression.is_exception),
            "baselined": sum(1 for f in result.suppressed if not f.suppression.is_exception),
            "criteria_evaluated": len(criteria),
            "criteria_with_failures": sum(1 for c in criteria if c["result"] == "failures found"),
        },
        "matrix": [{k: c[k] for k in ("id", "title", "tests", "counts", "result", "result_text")}
                   for c in criteria],
        "criteria": criteria,
        "tests": tests,
        "not_selected": [{"id": c["id"], "title": c["title"]} for c in catalogue
                         if c["id"] in available - evaluated],
        "not_evidenced": [{"id": c["id"], "title": c["title"], "evidence": c.get("evidence", "")}
                          for c in catalogue if c["id"] not in available],
        "exceptions": [_item(f) for f in result.suppressed if f.suppression.is_exception],
        "baselined": [_item(f) for f in result.suppressed if not f.suppression.is_exception],
        "subservice_organisations": _subservices(result),
    }


def _scope(result: ScanResult, scope: Scope) -> dict:
    repo, config = scope.repository, scope.config
    inventory = result.inventory
    remote = [{"file": m.path, "line": m.line, "address": m.address, "source": m.source,
               "version": m.version} for m in (inventory.remote_modules if inventory else ())]
    errors = [{"file": n.path, "line": n.line, "message": n.message}
              for n in result.notifications if n.is_error]
    unknown = sum(1 for f in result.findings if f.status == "unknown")
    limits = [
        "This report describes infrastructure code at one commit, not the deployed state: changes "
        "made outside code (consoles, scripts, drift) and resources not written as code are not seen.",
        "A rule inspects only what its code states. A passing result shows that the configuration "
        "in code meets the rule, not that the control operated over the audit period.",
    ]
    if remote:
        limits.append(f"{len(remote)} remote Terraform module call(s) were not fetched or "
                      "evaluated; the resources they create are not inspected (listed below).")
    if unknown:
        limits.append(f"{unknown} result(s) could not be decided because a value depends on "
                      "something code does not state (a variable without a value, a data source, "
                      "a remote module's output).")
    if errors:
        limits.append(f"{len(errors)} file(s) could not be read or parsed and were not inspected.")
    if repo and repo.dirty:
        limits.append("The working tree had uncommitted changes to tracked files when scanned; "
                      "the results may differ from the commit named.")
    return {
        "repository": repo.name if repo else None,
        "commit": repo.commit if repo else None,
        "commit_date": repo.commit_date if repo else None,
        "branch": repo.branch if repo else None,
        "uncommitted_changes": repo.dirty if repo else None,
        "generated_on": scope.generated_on,
        "command": scope.command,
        "paths": list(scope.paths),
        "tool": {"name": "soc2lint", "version": __version__},
        "rules": {"count": len(result.rules), "digest": f"sha256:{rules_digest(result.rules)}"},
        "config": {"file": scope.config_name,
                   "digest": f"sha256:{config.digest}" if config and config.digest else None},
        "environment": scope.environment,
        "files_scanned": len(result.files),
        "frameworks": list(result.frameworks),
        "limits": limits,
        "remote_modules": remote,
        "unreadable_files": errors,
    }


def _test(rule: Rule, findings: list[Finding]) -> dict:
    statuses = Counter(f.status for f in findings)
    kinds = sorted({(f.entity.framework, f.entity.kind) for f in findings})
    types = sorted({f.entity.type for f in findings})
    nouns = " and ".join(_ENTITY_NOUNS.get(k, f"{k[0]} {k[1]}s") for k in kinds) or "entities"
    shown = ", ".join(types[:6]) + (f" and {len(types) - 6} more" if len(types) > 6 else "")
    if findings:
        description = (f"Inspected {len(findings)} {nouns} of type {shown} for: {rule.title}"
                       if types != [k[1] for k in kinds] else
                       f"Inspected {len(findings)} {nouns} for: {rule.title}")
    else:
        description = f"Not tested: no matching resources for: {rule.title}"
    return {
        "rule_id": rule.id, "title": rule.title, "severity": rule.severity.value,
        "precision": rule.precision, "primary": list(rule.soc2.primary),
        "secondary": list(rule.soc2.secondary), "description": rule.description.strip(),
        "limitations": rule.limitations.strip(), "test": description,
        "inspected": len(findings), "counts": {k: statuses.get(k, 0) for k in STATUSES},
        "items": [_item(f) for f in findings],
    }


def _item(finding: Finding) -> dict:
    return {
        "rule_id": finding.rule.id, "status": finding.status, "outcome": finding.outcome.value,
        "file": finding.path,
        "line": finding.span.line, "address": finding.entity.address, "type": finding.entity.type,
        "message": "" if finding.status == "pass" else finding.message,
        "fingerprint": finding.fingerprint, "suppression": suppression_data(finding.suppression),
    }


def _criterion(entry: dict, result: ScanResult, tests: dict, counts: dict | None) -> dict:
    criterion = entry["id"]
    primary = [r.id for r in result.rules if criterion in r.soc2.primary]
    secondary = [r.id for r in result.rules if criterion in r.soc2.secondary and r.id not in primary]
    counts = counts or dict.fromkeys(STATUSES, 0)
    # as in criterion_counts: a failure counts against primary criteria only
    exceptions = [i for r in primary + secondary for i in tests[r]["items"]
                  if i["suppression"] and i["suppression"]["kind"] != "baseline"
                  and (r in primary or i["outcome"] != "fail")]
    result_key, text = _result_line(criterion, [tests[r] for r in primary],
                                    [tests[r] for r in secondary], exceptions)
    return {
        "id": criterion, "title": entry["title"], "category": entry.get("category"),
        "evidence_beyond_code": entry.get("evidence", ""),
        "tests": len(primary) + len(secondary),
        "primary_tests": primary, "secondary_tests": secondary,
        "counts": {**counts,
                   "exceptions": sum(1 for i in exceptions),
                   "baselined": counts["suppressed"] - len(exceptions)},
        "result": result_key, "result_text": text,
    }


def _result_line(criterion: str, primary: list[dict], secondary: list[dict],
                 exceptions: list[dict]) -> tuple[str, str]:
    """The criterion's result in the tool's words: what the tests found, not an opinion."""
    failed = sum(t["counts"]["fail"] for t in primary)
    inspected = sum(t["inspected"] for t in primary + secondary)
    unknown = sum(t["counts"]["unknown"] for t in primary + secondary)
    note = f"; {len(exceptions)} exception(s) accepted with a justification" if exceptions else ""
    if not inspected:
        return "not tested", "Not tested: no matching resources in the scanned code"
    if failed:
        return "failures found", f"Failures found: {failed} failing resource(s){note}"
    if unknown:
        return "undecided", (f"No failing resources; {unknown} result(s) could not be decided "
                             f"from code{note}")
    if any(t["counts"]["fail"] for t in secondary):
        return "supporting failures", ("No failing resources in the primary tests; supporting "
                                       f"tests found failures{note}")
    return "no failures", f"No failing resources{note}"


def _subservices(result: ScanResult) -> list[dict]:
    inventory = result.inventory
    if inventory is None:
        return []
    return [{"name": s.name, "category": s.category, "places": s.count,
             "evidence": [{"via": e.via, "detail": e.detail, "file": e.path, "line": e.line}
                          for e in s.evidence]}
            for s in inventory.subservices]
