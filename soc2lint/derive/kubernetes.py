"""Derived fields that need every Kubernetes object of the scan, computed once after parsing."""

from __future__ import annotations

from collections.abc import Iterable

from ..kubeindex import ManifestIndex
from ..model import Entity
from .service_accounts import with_token_mount

#: The kinds the joins look up in other files; a context file is parsed only when it names one.
JOINED_KINDS = frozenset({"ServiceAccount"})


def derive_kubernetes(entities: Iterable[Entity], context: Iterable[Entity] = ()) -> list[Entity]:
    """The entities with cross-file Kubernetes fields added (a pod's service account and token
    mount); other entities pass through unchanged. `context` holds objects of files that are
    not reported, which joins may still find."""
    entities = list(entities)
    index = ManifestIndex([*entities, *context])
    return [with_token_mount(entity, index)
            if entity.framework == "kubernetes" and entity.kind == "pod" else entity
            for entity in entities]


__all__ = ["JOINED_KINDS", "ManifestIndex", "derive_kubernetes"]
