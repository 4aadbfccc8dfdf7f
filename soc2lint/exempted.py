"""Failures a change exempts, however the exemption is written: failing findings that are
suppressed (an inline or configuration ignore), baselined or deselected (a rule the configuration
no longer selects, a path it now excludes) after the change, while at the base they failed and
counted, or did not exist.

Each side is judged by its own configuration: the head's findings with the head's ignores,
baseline and selection; the base's, evaluated from the base commit, with the base's. A finding
listed here is one the change itself stopped from counting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .fingerprint import identity_parts
from .model import ExemptedFailure, Finding, Outcome

DESELECTED, EXCLUDED = "deselected", "excluded"


@dataclass(frozen=True)
class Selection:
    """What one configuration runs: the rules it selects and the paths it excludes."""

    rule_ids: frozenset[str]
    excluded: Callable[[str], bool] | None = None
    config_name: str | None = None  # the configuration file, repository-relative

    def exemption(self, finding: Finding) -> tuple[str, str] | None:
        """(mechanism, where it is written) when this configuration keeps a failure from
        counting; None when the finding is not a failure or counts."""
        if finding.outcome is not Outcome.FAIL:
            return None
        suppression = finding.suppression
        if suppression is not None:
            where = f"{suppression.path}:{suppression.line}" if suppression.line else suppression.path
            return suppression.kind, where
        if finding.rule.id not in self.rule_ids:
            return DESELECTED, self.config_name or "the rule selection"
        if self.excluded is not None and self.excluded(finding.path):
            return EXCLUDED, self.config_name or "the exclude patterns"
        return None


@dataclass(frozen=True)
class BaseView:
    """Identities of the failures at the base, and of those the base exempted."""

    failing: frozenset[tuple[str, ...]] = frozenset()
    exempt: frozenset[tuple[str, ...]] = frozenset()


def base_view(findings: Iterable[Finding], selection: Selection,
              renamed: Mapping[str, str]) -> BaseView:
    """The failures of a base evaluation and those its configuration exempted, named as now
    (`renamed` maps base paths to their names now)."""
    failing, exempt = set(), set()
    for finding in findings:
        if finding.outcome is Outcome.FAIL:
            rule, path, *rest = identity_parts(finding)
            identity = (rule, renamed.get(path, path), *rest)
            failing.add(identity)
            if selection.exemption(finding) is not None:
                exempt.add(identity)
    return BaseView(frozenset(failing), frozenset(exempt))


def exempted_failures(candidates: Iterable[Finding], head: Selection,
                      base: BaseView) -> tuple[ExemptedFailure, ...]:
    """The candidates the head exempts that the base did not: failing and counted at the base,
    or absent there."""
    found: dict[tuple[str, ...], ExemptedFailure] = {}
    for finding in candidates:
        exemption = head.exemption(finding)
        identity = identity_parts(finding)
        if exemption is None or identity in base.exempt or identity in found:
            continue
        mechanism, source = exemption
        found[identity] = ExemptedFailure(
            finding.rule.id, finding.path, finding.span.line, finding.entity.address, mechanism,
            source, "failing" if identity in base.failing else "absent", finding.message)
    return tuple(sorted(found.values(), key=lambda e: (e.path, e.line, e.rule_id, e.address)))
