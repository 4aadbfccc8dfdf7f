"""A pod's service account, and whether its API token is mounted, followed across files.

Kubernetes mounts the token unless the pod spec's `automountServiceAccountToken` is false or,
when the pod does not set it, its ServiceAccount's is. The pod runs as `serviceAccountName`
(the deprecated `serviceAccount` is the same field), `default` when neither is written, in its
workload's namespace. Three derived fields are added to every pod entity:

- `service_account_name`: the name it runs as;
- `effective_automount_token`: true or false, or UNKNOWN when the matching ServiceAccount may
  or may not share the pod's namespace (one of the two writes none) and would change the answer;
- `automount_token_origin`: where that value comes from, in words, for messages.

A ServiceAccount that is not among the scanned files is not known to turn the token off, so the
Kubernetes default (mounted) stands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..kubeindex import ManifestIndex, namespace_of, nearest
from ..model import DerivedLocator, Entity, Unknown

DEFAULT_SERVICE_ACCOUNT = "default"
TOKEN_FIELD = "automountServiceAccountToken"
NAME_FIELDS = ("serviceAccountName", "serviceAccount")


@dataclass(frozen=True)
class TokenMount:
    """Whether a pod's token is mounted (`value`), and where that is decided."""

    value: Any
    origin: str
    on_pod: bool = False


def service_account_name(pod: Mapping[str, Any]) -> tuple[str, tuple]:
    """The service account a pod spec runs as, and the key that names it (`()`: the default)."""
    for key in NAME_FIELDS:
        value = pod.get(key)
        if value not in (None, ""):
            return str(value), (key,)
    return DEFAULT_SERVICE_ACCOUNT, ()


def token_mount(pod: Entity, index: ManifestIndex) -> TokenMount:
    """The effective `automountServiceAccountToken` of a pod entity."""
    own = pod.data.get(TOKEN_FIELD)
    if own is not None:
        return TokenMount(own, "set in the pod spec", on_pod=True)
    name, _ = service_account_name(pod.data)
    namespace = namespace_of(pod)
    lookup = index.find("ServiceAccount", namespace, name)
    found = nearest(lookup.found, pod.path)
    if found:
        return _from_accounts(name, found)
    deciding = [sa for sa in lookup.possible if _setting(sa) is not True]
    if not deciding:
        return TokenMount(True, f"the default: no scanned ServiceAccount '{name}' in the pod's "
                                "namespace turns it off")
    if namespace is None:
        written = ", ".join(f"'{namespace_of(sa)}' at {_place(sa)}" for sa in deciding)
        reason = (f"the namespace {pod.label or pod.address} is applied to: it writes none, and "
                  f"ServiceAccount '{name}' is written for namespace {written}")
    else:
        where = ", ".join(_place(sa) for sa in deciding)
        reason = (f"the namespace ServiceAccount '{name}' ({where}) is applied to: it writes none, "
                  f"and {pod.label or pod.address} runs in '{namespace}'")
    return TokenMount(Unknown(reason), f"ServiceAccount '{name}', if it is in the pod's namespace")


def with_token_mount(pod: Entity, index: ManifestIndex) -> Entity:
    """The pod entity with the three derived fields; the value points at the pod's own field
    when it has one, else at the pod spec."""
    name, name_key = service_account_name(pod.data)
    mount = token_mount(pod, index)
    data = dict(pod.data)
    data["service_account_name"] = name
    data["effective_automount_token"] = mount.value
    data["automount_token_origin"] = mount.origin
    sources: dict[tuple, tuple] = {
        ("service_account_name",): name_key,
        ("effective_automount_token",): (TOKEN_FIELD,) if mount.on_pod else (),
        ("automount_token_origin",): (),
    }
    return dataclasses.replace(pod, data=data, locator=DerivedLocator(pod.locator, sources))


def _from_accounts(name: str, accounts: tuple[Entity, ...]) -> TokenMount:
    settings = {repr(_setting(sa)) for sa in accounts}
    where = ", ".join(_place(sa) for sa in accounts)
    if len(settings) > 1:
        return TokenMount(Unknown(f"which of the ServiceAccounts '{name}' applies ({where}): they "
                                  f"set {TOKEN_FIELD} differently"), f"ServiceAccount '{name}'")
    account = accounts[0]
    if account.data.get(TOKEN_FIELD) is None:
        return TokenMount(True, f"the default: ServiceAccount '{name}' ({where}) does not set it")
    return TokenMount(_setting(account), f"set on ServiceAccount '{name}' ({where})")


def _setting(account: Entity) -> Any:
    value = account.data.get(TOKEN_FIELD)
    return True if value is None else value


def _place(entity: Entity) -> str:
    return f"{entity.path}:{entity.span.line}"


__all__ = ["TokenMount", "service_account_name", "token_mount", "with_token_mount"]
