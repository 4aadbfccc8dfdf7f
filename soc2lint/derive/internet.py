"""Whether a set of network sources reaches the whole internet.

A set is internet-wide when one source is `*`, `Internet` or `Any`; when one prefix is wider
than the limits (an IPv4 prefix shorter than /8, an IPv6 prefix shorter than /32, by default)
and not wholly inside private space; or when together the sources cover every public address of
one address family. A source that is not an address (a service tag, a security group id, a typo)
adds nothing. An unresolved source leaves the answer open unless the known sources already
decide it; a partly known string counts only when it could be one of the catch-all forms.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..evaluate.values import Template
from ..model import Unknown

CATCH_ALL_WORDS = frozenset({"*", "internet", "any"})
CATCH_ALL_FORMS = ("0.0.0.0/0", "::/0", "*", "Internet", "internet", "Any", "any")
PRIVATE_SPACE = {
    4: ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16"),
    6: ("fc00::/7", "fe80::/10", "::1/128"),
}
Interval = tuple[int, int]


@dataclass(frozen=True)
class WideLimits:
    """A prefix shorter than these counts as internet-wide on its own."""

    ipv4_shorter_than: int = 8
    ipv6_shorter_than: int = 32

    @classmethod
    def parse(cls, value: Any) -> WideLimits:
        """`true` for the defaults, or a mapping of the two fields; ValueError otherwise."""
        if value is True:
            return cls()
        if not isinstance(value, Mapping):
            raise ValueError("internet_wide: expected true or a mapping of "
                             "ipv4_shorter_than / ipv6_shorter_than")
        extra = set(value) - {"ipv4_shorter_than", "ipv6_shorter_than"}
        if extra:
            raise ValueError(f"internet_wide: unknown key(s) {sorted(extra)}")
        limits = cls(**value)
        for name, top in (("ipv4_shorter_than", 33), ("ipv6_shorter_than", 129)):
            number = getattr(limits, name)
            if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= top:
                raise ValueError(f"internet_wide.{name}: expected a prefix length from 0 to {top}")
        return limits

    def shorter_than(self, version: int) -> int:
        return self.ipv4_shorter_than if version == 4 else self.ipv6_shorter_than


@dataclass(frozen=True)
class Verdict:
    """`wide` is True, False or None (undecided); `deciding` indexes the sources behind it."""

    wide: bool | None
    deciding: tuple[int, ...] = ()


DEFAULT_LIMITS = WideLimits()


def judge(sources: Sequence[Any], limits: WideLimits = DEFAULT_LIMITS) -> Verdict:
    """Whether `sources`, taken together, let the whole internet in."""
    key = tuple(sources)
    if all(type(source) is str for source in key):  # allows sharing their sources: judged once
        return _judged(key, limits)
    return _judge(key, limits)


@functools.lru_cache(maxsize=1024)
def _judged(sources: tuple, limits: WideLimits) -> Verdict:
    return _judge(sources, limits)


def _judge(sources: tuple, limits: WideLimits) -> Verdict:
    networks: dict[int, list[tuple[int, Any]]] = {4: [], 6: []}
    undecided: list[int] = []
    for index, source in enumerate(sources):
        if isinstance(source, Template):
            if any(source.could_be(form) for form in CATCH_ALL_FORMS):
                undecided.append(index)
            continue
        if isinstance(source, Unknown):
            undecided.append(index)
            continue
        text = str(source).strip()
        if text.lower() in CATCH_ALL_WORDS:
            return Verdict(True, (index,))
        network = parse_network(text)
        if network is None:
            continue
        if network.prefixlen < limits.shorter_than(network.version) and not is_private(network):
            return Verdict(True, (index,))
        networks[network.version].append((index, network))
    for members in networks.values():
        if members and covers_public(network for _, network in members):
            return Verdict(True, tuple(index for index, _ in members))
    return Verdict(None, tuple(undecided)) if undecided else Verdict(False)


@functools.lru_cache(maxsize=65536)
def parse_network(text: str) -> Any:
    """An IPv4/IPv6 network from a CIDR or a bare address (host bits allowed), or None."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except (ValueError, TypeError):
        return None


def known_networks(sources: Sequence[Any]) -> list[Any]:
    """The sources that are plain address strings, as networks."""
    found = []
    for source in sources:
        if isinstance(source, str):
            network = parse_network(source.strip())
            if network is not None:
                found.append(network)
    return found


def is_private(network: Any) -> bool:
    return any(network.subnet_of(private) for private in _private_networks(network.version))


def covers_public(networks: Any) -> bool:
    """Whether the networks (one family or both) cover every public address of some family."""
    by_family: dict[int, list[Interval]] = {4: [], 6: []}
    for network in networks:
        by_family[network.version].append(_interval(network))
    for version, intervals in by_family.items():
        if intervals and _contains_all(_merge(intervals), _public_space(version)):
            return True
    return False


def _interval(network: Any) -> Interval:
    return int(network.network_address), int(network.broadcast_address)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _contains_all(merged: list[Interval], needed: tuple[Interval, ...]) -> bool:
    starts = [low for low, _ in merged]
    for low, high in needed:
        at = bisect.bisect_right(starts, low) - 1
        if at < 0 or merged[at][1] < high:
            return False
    return True


@functools.cache
def _private_networks(version: int) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(text) for text in PRIVATE_SPACE[version])


@functools.cache
def _public_space(version: int) -> tuple[Interval, ...]:
    """Every address of the family outside private space, as sorted disjoint intervals."""
    top = 2 ** (32 if version == 4 else 128) - 1
    public, start = [], 0
    for low, high in _merge([_interval(n) for n in _private_networks(version)]):
        if start < low:
            public.append((start, low - 1))
        start = high + 1
    if start <= top:
        public.append((start, top))
    return tuple(public)


__all__ = ["DEFAULT_LIMITS", "Verdict", "WideLimits", "covers_public", "is_private", "judge",
           "known_networks", "parse_network"]
