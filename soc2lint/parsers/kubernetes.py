"""Kubernetes manifests -> manifest, pod-spec and container entities."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import Entity, Span
from ..secrets import SecretHit, find_in_text, find_secrets, without_credentials
from .yamlspans import Document, YamlLocator, item_span

FRAMEWORK = "kubernetes"

#: Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
#: The only securityContext fields a container inherits from its pod.
INHERITED_SECURITY_FIELDS = (
    "runAsUser", "runAsGroup", "runAsNonRoot", "seLinuxOptions", "seccompProfile",
    "windowsOptions",
)


def is_manifest(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("kind"), str) and "apiVersion" in data


def parse(path: str, documents: list[Document]) -> list[Entity]:
    entities: list[Entity] = []
    seen: set[str] = set()
    for doc in documents:
        for base, manifest in _manifests(doc.data, ()):
            entities.extend(_manifest_entities(path, doc.data, base, manifest, seen))
    return entities


def _manifests(data: Any, base: tuple) -> Iterator[tuple[tuple, dict]]:
    if not is_manifest(data):
        return
    items = data.get("items")
    if data["kind"].endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            yield from _manifests(item, (*base, "items", index))
        return
    yield base, data


def _manifest_entities(path: str, root: Any, base: tuple, doc: dict, seen: set) -> list[Entity]:
    kind = doc["kind"]
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = str(meta.get("name", "")) or "(unnamed)"
    namespace = meta.get("namespace")
    address = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
    locator = YamlLocator(root, base)
    span = locator.span(()) or Span(1)
    if address in seen:
        address = f"{address}@{span.line}"
    seen.add(address)
    label = f"{kind}/{name}"
    data = dict(doc)
    extra: dict = {}
    if kind == "ConfigMap":
        hits = _config_map_secrets(doc)
        data["hardcoded_secrets"] = [hit.as_data() for hit in hits]
        extra = {("hardcoded_secrets", i): base + hit.path for i, hit in enumerate(hits)}
    entities = [Entity(FRAMEWORK, "manifest", kind, address, path, span, data,
                       YamlLocator(root, base, extra), label)]
    spec_path = POD_SPEC_PATHS.get(kind)
    pod = _get(doc, spec_path) if spec_path else None
    if isinstance(pod, dict):
        pod_base = base + spec_path
        pod_data = dict(pod)
        pod_data["workload_metadata"] = meta
        extra = {("workload_metadata",): (*base, "metadata")}
        entities.append(Entity(FRAMEWORK, "pod", kind, f"{address}/pod", path,
                               YamlLocator(root, pod_base).span(()) or span, pod_data,
                               YamlLocator(root, pod_base, extra), label))
        entities.extend(_containers(path, root, pod_base, pod, kind, address, label))
    return entities


def _containers(path, root, pod_base: tuple, pod: dict, kind: str, address: str, label: str):
    pod_context = pod.get("securityContext") if isinstance(pod.get("securityContext"), dict) else {}
    for list_name in CONTAINER_LISTS:
        containers = pod.get(list_name)
        if not isinstance(containers, list):
            continue
        for index, container in enumerate(containers):
            if not isinstance(container, dict):
                continue
            cname = str(container.get("name", index))
            cbase = (*pod_base, list_name, index)
            own = container.get("securityContext")
            own = own if isinstance(own, dict) else {}
            effective, origins = {}, {}
            for field_name in INHERITED_SECURITY_FIELDS:
                if field_name in pod_context:
                    effective[field_name] = pod_context[field_name]
                    origins[field_name] = (*pod_base, "securityContext", field_name)
            for field_name, value in own.items():
                effective[field_name] = value
                origins[field_name] = (*cbase, "securityContext", field_name)
            data = dict(container)
            if isinstance(data.get("image"), str):  # messages show it: never a registry password
                data["image"] = without_credentials(data["image"])
            data["container_type"] = list_name
            data["effective_security_context"] = effective
            hits = find_secrets(_env_values(container))
            data["hardcoded_secrets"] = [hit.as_data() for hit in hits]
            extra: dict = {("effective_security_context", k): v for k, v in origins.items()}
            extra[("effective_security_context",)] = (
                (*cbase, "securityContext") if own else (*pod_base, "securityContext")
            )
            extra.update({("hardcoded_secrets", i): cbase + hit.path for i, hit in enumerate(hits)})
            locator = YamlLocator(root, cbase, extra)
            span = item_span(root, cbase) or Span(1)
            yield Entity(FRAMEWORK, "container", kind, f"{address}/{list_name}/{cname}", path,
                         span, data, locator, f"{label} container '{cname}'")


def _env_values(container: dict) -> Iterator[tuple]:
    env = container.get("env")
    if not isinstance(env, list):
        return
    for index, item in enumerate(env):
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            yield ("env", index, "value"), str(item.get("name", "")), item["value"]


def _config_map_secrets(doc: dict) -> list[SecretHit]:
    """Credentials in a ConfigMap's values; a value of several lines is a file, read as text."""
    data = doc.get("data")
    if not isinstance(data, dict):
        return []
    hits = find_secrets((("data", key), str(key), value) for key, value in data.items()
                        if not (isinstance(value, str) and "\n" in value.strip()))
    for key, value in data.items():
        if isinstance(value, str) and "\n" in value.strip():
            hits.extend(find_in_text(value, ("data", key), f"'{key}'"))
    return hits


def _get(data: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data
