"""Stable fingerprints: rule, file and resource address, never line numbers."""

from __future__ import annotations

import hashlib
import posixpath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Finding

FINGERPRINT_KEY = "soc2lint/v1"


def identity_parts(finding: Finding) -> tuple[str, ...]:
    """Rule, path, address, instance key, and the root a module was evaluated from when that
    is another directory: what tells one finding from another across edits."""
    entity = finding.entity
    parts: tuple[str, ...] = (finding.rule.id, entity.path, entity.address, entity.instance_key or "")
    if entity.context and entity.context != (posixpath.dirname(entity.path) or "."):
        parts += (entity.context,)
    return parts


def fingerprint(finding: Finding) -> str:
    return hashlib.sha256("\x1f".join(identity_parts(finding)).encode("utf-8")).hexdigest()[:32]
