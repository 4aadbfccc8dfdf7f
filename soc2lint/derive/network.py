"""Network exposure in one shape: `exposure`, a list of inbound allows.

Each item is `{protocol, from_port, to_port, source, public}`: AWS security groups (inline
`ingress` blocks or `ingress = [...]`), `aws_security_group_rule`,
`aws_vpc_security_group_ingress_rule`, Azure NSG rules (inline or separate) and GCP firewalls.
`-1`/`all`/`*` mean every protocol and port, `::/0`, `*`, `Internet` and `Any` mean anywhere.
Unresolved parts stay UNKNOWN, so a rule on them is UNKNOWN rather than a guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from ..evaluate.values import Template, Unknown, kind_of
from ..model import DerivedLocator, Entity

ANYWHERE = {"0.0.0.0/0", "::/0", "*", "internet", "any"}
_PROTOCOLS = {"-1": "all", "all": "all", "*": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
ALL_PORTS = (0, 65535)


def with_exposure(entity: Entity) -> Entity:
    extractor = _EXTRACTORS.get(entity.type) if entity.kind == "resource" else None
    if extractor is None:
        return entity
    items: list[Any] = []
    spans: dict[tuple, tuple] = {}
    for where, item in extractor(entity.data):
        spans[("exposure", len(items))] = where
        items.append(item)
    data = dict(entity.data)
    data["exposure"] = items
    return dataclasses.replace(entity, data=data, locator=DerivedLocator(entity.locator, spans))


def _protocol(value: Any) -> Any:
    if isinstance(value, Unknown) or value is None:
        return value if value is not None else "all"
    text = str(value).lower()
    return _PROTOCOLS.get(text, text)


def _port(value: Any) -> Any:
    if isinstance(value, Unknown):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return Unknown(f"a port is not a number (got {kind_of(value)})")


def _item(protocol: Any, from_port: Any, to_port: Any, source: Any) -> dict:
    protocol = _protocol(protocol)
    if protocol == "all":
        from_port, to_port = ALL_PORTS
    public: Any = _is_anywhere(source)
    item = {"protocol": protocol, "source": source, "public": public}
    if protocol not in ("icmp", "icmpv6"):
        item["from_port"], item["to_port"] = _port(from_port), _port(to_port)
    return item


def _is_anywhere(source: Any) -> Any:
    """True/False, or the Unknown itself when the source is not known well enough to tell."""
    if isinstance(source, Template):
        forms = {"0.0.0.0/0", "::/0", "*", "Internet", "internet", "Any", "any"}
        return source if any(source.could_be(form) for form in forms) else False
    if isinstance(source, Unknown):
        return source
    return str(source).lower() in ANYWHERE


def _cidrs(rule: dict, *keys: str) -> list[Any]:
    found: list[Any] = []
    for key in keys:
        value = rule.get(key)
        if value is None:
            continue
        found.extend(value if isinstance(value, list) else [value])
    return found


def _aws_rule(rule: Any, where: tuple) -> Iterator[tuple[tuple, Any]]:
    if isinstance(rule, Unknown):
        yield where, rule
        return
    if not isinstance(rule, dict):
        return
    for source in _cidrs(rule, "cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"):
        protocol = rule.get("protocol", rule.get("ip_protocol"))
        yield where, _item(protocol, rule.get("from_port"), rule.get("to_port"), source)


def _inline_rules(data: dict, key: str, extract: Callable) -> Iterator[tuple[tuple, Any]]:
    """Rules written inside the group (`ingress`, `security_rule`): each at its own place."""
    rules = data.get(key)
    if isinstance(rules, Unknown):
        yield (key,), rules
        return
    for index, rule in enumerate(rules or []):
        yield from extract(rule, (key, index))


def _aws_security_group_rule(data: dict) -> Iterator[tuple[tuple, Any]]:
    kind = data.get("type")
    if isinstance(kind, Unknown):
        yield ("type",), kind
    elif kind == "ingress":
        yield from _aws_rule(data, ())


def _azure_rule(rule: Any, where: tuple) -> Iterator[tuple[tuple, Any]]:
    if isinstance(rule, Unknown):
        yield where, rule
        return
    if not isinstance(rule, dict):
        return
    direction, access = rule.get("direction"), rule.get("access")
    for value in (direction, access):
        if isinstance(value, Unknown):
            yield where, value
            return
    if str(direction).lower() != "inbound" or str(access).lower() != "allow":
        return
    ports = _cidrs(rule, "destination_port_range", "destination_port_ranges")
    sources = _cidrs(rule, "source_address_prefix", "source_address_prefixes")
    for source in sources:
        for port in ports:
            low, high = _range(port)
            yield where, _item(rule.get("protocol"), low, high, source)


def _range(port: Any) -> tuple[Any, Any]:
    if isinstance(port, Unknown):
        return port, port
    text = str(port).strip()
    if text == "*":
        return ALL_PORTS
    low, _, high = text.partition("-")
    return low, high or low


def _gcp_firewall(data: dict) -> Iterator[tuple[tuple, Any]]:
    direction, disabled = data.get("direction", "INGRESS"), data.get("disabled")
    for key, value in (("direction", direction), ("disabled", disabled)):
        if isinstance(value, Unknown):  # whether the rule applies at all is not known
            yield (key,), value
            return
    if disabled is True or (isinstance(direction, str) and direction.upper() != "INGRESS"):
        return
    sources = _cidrs(data, "source_ranges")
    allows = data.get("allow") or []
    for index, allow in enumerate(allows if isinstance(allows, list) else [allows]):
        where = ("allow", index)
        if isinstance(allow, Unknown):
            yield where, allow
            continue
        protocol = allow.get("protocol")
        ports = allow.get("ports") or ["*"]
        for source in sources:
            for port in ports if isinstance(ports, list) else [ports]:
                low, high = _range(port)
                yield where, _item(protocol, low, high, source)


_EXTRACTORS = {
    "aws_security_group": lambda data: _inline_rules(data, "ingress", _aws_rule),
    "aws_security_group_rule": _aws_security_group_rule,
    "aws_vpc_security_group_ingress_rule": lambda data: _aws_rule(data, ()),
    "azurerm_network_security_group": lambda data: _inline_rules(data, "security_rule", _azure_rule),
    "azurerm_network_security_rule": lambda data: _azure_rule(data, ()),
    "google_compute_firewall": _gcp_firewall,
}


__all__ = ["ANYWHERE", "with_exposure"]
