"""Stable fingerprints: rule, file and resource address, never line numbers."""

from __future__ import annotations

import hashlib
import posixpath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Finding

FINGERPRINT_KEY = "soc2lint/v1"


def fingerprint(finding: Finding) -> str:
    entity = finding.entity
    parts: tuple[str, ...] = (finding.rule.id, entity.path, entity.address, entity.instance_key or "")
    if entity.context and entity.context != (posixpath.dirname(entity.path) or "."):
        parts += (entity.context,)  # a module evaluated from another root: which one
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
