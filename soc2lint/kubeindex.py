"""Kubernetes objects of a whole scan, looked up by kind, namespace and name.

Parsing reads one file at a time, but objects refer to each other across files: a pod names its
ServiceAccount, a RoleBinding names subjects, a NetworkPolicy selects pods of its namespace. The
index is built once over every Kubernetes entity of the scan so such joins are answered alike.

Namespaces. An object's namespace is its `metadata.namespace`. Cluster-scoped kinds have none.
A namespaced object that writes none is created wherever it is applied (the namespace of the
kubectl context, or the one Helm or kustomize passes), which the files cannot tell: it has the
namespace `None`. Two objects that both write none are taken to share it, as plain manifests of
one application are applied together; an object that writes none and one that writes a name
may or may not share it, which lookups report apart as `possible` (the caller decides UNKNOWN).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Entity

#: Built-in kinds that live outside every namespace.
CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "CSIDriver",
    "CSINode", "CustomResourceDefinition", "FlowSchema", "IngressClass",
    "MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PodSecurityPolicy",
    "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass", "StorageClass",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment",
})


def is_cluster_scoped(kind: str) -> bool:
    return kind in CLUSTER_SCOPED_KINDS


def written_namespace(metadata: object) -> str | None:
    """`metadata.namespace` as written, or None when it is absent or empty."""
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return str(namespace) if namespace not in (None, "") else None


def namespace_of(entity: Entity) -> str | None:
    """The namespace of a manifest or pod entity (a pod lives in its workload's namespace)."""
    if entity.kind == "pod":
        return written_namespace(entity.data.get("workload_metadata"))
    return written_namespace(entity.data.get("metadata"))


def same_namespace(first: str | None, second: str | None) -> bool | None:
    """True or False when the two namespaces surely are or are not the same; None when one is
    written and the other is not (it depends on where the unwritten one is applied)."""
    if first is None and second is None:
        return True
    if first is None or second is None:
        return None
    return first == second


@dataclass(frozen=True)
class Lookup:
    """Objects answering a lookup: `found` surely match it, `possible` match it only if an
    unwritten namespace turns out to be the one asked for (or the one written)."""

    found: tuple[Entity, ...] = ()
    possible: tuple[Entity, ...] = ()


def nearest(entities: Sequence[Entity], path: str) -> tuple[Entity, ...]:
    """The entities written closest to `path`: the same file, else the same folder, else the
    deepest folder shared with it."""
    folder = posixpath.dirname(path)

    def closeness(entity: Entity) -> tuple[bool, bool, int]:
        own = posixpath.dirname(entity.path)
        shared = posixpath.commonpath([own, folder]) \
            if posixpath.isabs(own) == posixpath.isabs(folder) else ""
        return entity.path == path, own == folder, len(shared.split("/")) if shared else 0

    if not entities:
        return ()
    best = max(closeness(e) for e in entities)
    return tuple(e for e in entities if closeness(e) == best)


class ManifestIndex:
    """Every Kubernetes manifest entity of a scan, by kind, namespace and name."""

    def __init__(self, entities: Iterable[Entity]) -> None:
        self._by_kind: dict[str, list[Entity]] = defaultdict(list)
        self._by_key: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        for entity in entities:
            if entity.framework == "kubernetes" and entity.kind == "manifest":
                self._by_kind[entity.type].append(entity)
                self._by_key[(entity.type, name_of(entity))].append(entity)

    def of_kind(self, kind: str) -> tuple[Entity, ...]:
        return tuple(self._by_kind.get(kind, ()))

    def find(self, kind: str, namespace: str | None, name: str) -> Lookup:
        """Objects of `kind` named `name` in `namespace` (None: a namespace not written)."""
        return _split(self._by_key.get((kind, name), ()), kind, namespace)

    def in_namespace(self, kind: str, namespace: str | None) -> Lookup:
        """Every object of `kind` in `namespace` (None: a namespace not written)."""
        return _split(self._by_kind.get(kind, ()), kind, namespace)


def name_of(entity: Entity) -> str:
    metadata = entity.data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return str(name) if name not in (None, "") else ""


def _split(candidates: Iterable[Entity], kind: str, namespace: str | None) -> Lookup:
    if is_cluster_scoped(kind):
        return Lookup(tuple(candidates))
    found: list[Entity] = []
    possible: list[Entity] = []
    for candidate in candidates:
        verdict = same_namespace(namespace_of(candidate), namespace)
        if verdict:
            found.append(candidate)
        elif verdict is None:
            possible.append(candidate)
    return Lookup(tuple(found), tuple(possible))


__all__ = ["Lookup", "ManifestIndex", "is_cluster_scoped", "namespace_of", "nearest",
           "same_namespace", "written_namespace"]
