"""Network exposure in one shape: `exposure`, a list of inbound allows.

Each item is `{protocol, from_port, to_port, source, sources, public}`: AWS security groups
(inline `ingress` blocks or `ingress = [...]`), `aws_security_group_rule`,
`aws_vpc_security_group_ingress_rule`, Azure NSG rules (inline or separate) and GCP firewalls.
`-1`/`all`/`*` mean every protocol; AWS ignores the ports then, Azure keeps them. An allow is cut
at the port boundaries of the entity's other allows, so that `sources` holds every known source
that reaches the piece's ports with its protocol (the union a rule judges) and `public` the
default verdict on them (soc2lint.derive.internet). Unresolved parts stay UNKNOWN, so a rule on
them is UNKNOWN rather than a guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from ..evaluate.values import Unknown, kind_of
from ..model import DerivedLocator, Entity
from .internet import covers_public, judge, known_networks

_PROTOCOLS = {"-1": "all", "all": "all", "*": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
ALL_PORTS = (0, 65535)
MAX_RANGES = 200  # beyond this many distinct port ranges in one entity, each allow is judged alone


def with_exposure(entity: Entity) -> Entity:
    extractor = _EXTRACTORS.get(entity.type) if entity.kind == "resource" else None
    if extractor is None:
        return entity
    items: list[Any] = []
    spans: dict[tuple, tuple] = {}
    for where, item in with_union(list(extractor(entity.data))):
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
    item = {"protocol": protocol, "source": source}
    if protocol not in ("icmp", "icmpv6"):
        item["from_port"], item["to_port"] = _port(from_port), _port(to_port)
    return item


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
    protocol = rule.get("protocol", rule.get("ip_protocol"))
    # AWS ignores the ports of an every-protocol rule: it opens them all.
    ports = ALL_PORTS if _protocol(protocol) == "all" else (rule.get("from_port"), rule.get("to_port"))
    for source in _cidrs(rule, "cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"):
        yield where, _item(protocol, *ports, source)


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
    ports = [part for port in _cidrs(rule, "destination_port_range", "destination_port_ranges")
             for part in _comma_parts(port)]
    sources = _cidrs(rule, "source_address_prefix", "source_address_prefixes")
    for source in sources:
        for port in ports:
            low, high = _range(port)
            yield where, _item(rule.get("protocol"), low, high, source)


def _comma_parts(port: Any) -> list[Any]:
    """Azure accepts several ports or ranges in one string: "22,3389,8000-8080"."""
    if isinstance(port, str) and "," in port:
        return [part for part in port.split(",") if part.strip()]
    return [port]


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


def with_union(found: list[tuple[tuple, Any]]) -> list[tuple[tuple, Any]]:
    """Each allow cut into port pieces, each piece with the union of the sources reaching it.

    A piece's `sources` are the plain address strings of every allow whose protocol covers its
    protocol and whose ports cover the piece, its own source among them (first, when it is not
    a plain string). An unresolved source of another allow stays with that allow, which is
    undecided on its own. An allow whose protocol or ports are unresolved gets the others'
    addresses only when its own source completes an internet-wide union with them; an allow
    without ports (ICMP) is judged alone.
    """
    allows = [item for _, item in found if isinstance(item, dict)]
    ranges: dict[tuple, dict[str, None]] = {}
    for item in allows:
        if _ported(item):
            addresses = ranges.setdefault(_range_key(item), {})
            if isinstance(item["source"], str):
                addresses[item["source"]] = None
    alone = len(ranges) > MAX_RANGES
    cut = {key: _cut(key, ranges) for key in ranges} if not alone else {}
    verdicts: dict[int, Any] = {}
    result: list[tuple[tuple, Any]] = []
    for where, item in found:
        if not isinstance(item, dict):
            result.append((where, item))
        elif _ported(item) and not alone:
            for low, high, addresses in cut[_range_key(item)]:
                piece = {**item, "from_port": low, "to_port": high}
                if isinstance(item["source"], str):  # one shared list and verdict per piece
                    if id(addresses) not in verdicts:
                        verdicts[id(addresses)] = _public(addresses)
                    result.append((where, {**piece, "sources": addresses,
                                           "public": verdicts[id(addresses)]}))
                else:
                    result.append((where, _judged(piece, [item["source"], *addresses])))
        elif _ported(item) or "from_port" not in item:
            result.append((where, _judged(item, [item["source"]])))
        else:
            result.append((where, _judged(item, _sources_of_unplaced(item, allows))))
    return result


def _ported(item: dict) -> bool:
    return isinstance(item["protocol"], str) and isinstance(item.get("from_port"), int) \
        and isinstance(item.get("to_port"), int) and item["from_port"] <= item["to_port"]


def _range_key(item: dict) -> tuple[str, int, int]:
    return item["protocol"], item["from_port"], item["to_port"]


def _reaches(other_protocol: Any, protocol: Any) -> bool:
    """Whether an allow of `other_protocol` lets in `protocol` (every protocol covers the rest)."""
    return other_protocol == protocol or other_protocol == "all"


def _cut(key: tuple, ranges: dict[tuple, dict[str, None]]) -> list[tuple[int, int, list[str]]]:
    """The port range `key` cut where other ranges of a covering protocol start or end: each
    piece with the addresses of every range that covers it."""
    protocol, low, high = key
    peers = [k for k in ranges if _reaches(k[0], protocol)]
    cuts = sorted({low} | {p for _, start, end in peers for p in (start, end + 1) if low < p <= high})
    pieces: list[tuple[int, int, list[str]]] = []
    for start, after in zip(cuts, [*cuts[1:], high + 1], strict=True):
        addresses = list(dict.fromkeys(
            a for k in peers if k[1] <= start and k[2] >= after - 1 for a in ranges[k]))
        if pieces and pieces[-1][2] == addresses:
            pieces[-1] = (pieces[-1][0], after - 1, pieces[-1][2])
        else:
            pieces.append((start, after - 1, addresses))
    return pieces


def _sources_of_unplaced(item: dict, allows: list[dict]) -> list[Any]:
    """An allow of unresolved protocol or ports: its own source, and the others' addresses when
    its own source completes an internet-wide union with them."""
    protocol = item["protocol"]
    others = [o["source"] for o in allows if o is not item and isinstance(o["source"], str)
              and (not isinstance(protocol, str) or not isinstance(o["protocol"], str)
                   or _reaches(o["protocol"], protocol) or _reaches(protocol, o["protocol"]))]
    known = known_networks(others)
    own = known_networks([item["source"]])
    if not own or covers_public(known) or not covers_public([*known, *own]):
        return [item["source"]]
    return [item["source"], *others]


def _judged(item: dict, sources: list[Any]) -> dict:
    return {**item, "sources": sources, "public": _public(sources)}


def _public(sources: list[Any]) -> Any:
    """The default verdict: True, False, or the unresolved source that leaves it open."""
    verdict = judge(sources)
    return verdict.wide if verdict.wide is not None else sources[verdict.deciding[0]]


__all__ = ["with_exposure", "with_union"]
