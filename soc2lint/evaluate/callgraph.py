"""Which directories call which as local modules: the roots to evaluate, and the calls that loop.

Terraform rejects module calls that come back to a module already being called (`./a` calls
`./b`, which calls `./a`; or a module calling its own directory). soc2lint reports each such loop
and evaluates the rest: a directory is a root when nothing outside its loop calls it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class LocalCall:
    """A `module` block whose source is a local directory."""

    caller: Path  # the directory of the calling module
    target: Path  # the directory it calls
    name: str
    path: str  # the file the block is written in, as displayed
    line: int
    source: str

    def describe(self) -> str:
        return f'module "{self.name}" ({self.path}, line {self.line}) calls "{self.source}"'


@dataclass(frozen=True)
class CallGraph:
    """The local calls reachable from the scanned directories."""

    calls: tuple[LocalCall, ...]

    def loops(self) -> list[tuple[LocalCall, ...]]:
        """The calls within each group of directories that call each other."""
        group = self._group
        found: dict[int, list[LocalCall]] = {}
        for call in self.calls:
            if group[call.caller] == group[call.target]:
                found.setdefault(group[call.caller], []).append(call)
        return [_in_call_order(calls) for _, calls in sorted(found.items())]

    def roots(self, scanned: Iterable[Path]) -> list[Path]:
        """The scanned directories no module outside their loop calls; of a loop no other module
        calls, only the one nearest the top (it reaches the others)."""
        scanned = list(scanned)
        group = self._group
        called_from_outside = {group[c.target] for c in self.calls if group[c.caller] != group[c.target]}
        chosen: dict[int, Path] = {}
        for directory in sorted(scanned, key=lambda d: len(d.parts)):
            mine = group.get(directory)
            if mine is not None and mine not in called_from_outside:
                chosen.setdefault(mine, directory)
        return [d for d in scanned if d not in group or chosen.get(group[d]) == d]

    @cached_property
    def _group(self) -> dict[Path, int]:
        """Each directory's strongly connected component (Tarjan's algorithm, without recursion)."""
        edges: dict[Path, list[Path]] = {}
        for call in self.calls:
            edges.setdefault(call.caller, []).append(call.target)
            edges.setdefault(call.target, [])
        index: dict[Path, int] = {}
        low: dict[Path, int] = {}
        stack: list[Path] = []
        group: dict[Path, int] = {}
        numbers = itertools.count()
        work: list[tuple[Path, Iterator[Path]]] = []

        def visit(node: Path) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            work.append((node, iter(edges[node])))

        for start in edges:
            if start not in index:
                visit(start)
            while work:
                node, targets = work[-1]
                target = next(targets, None)
                if target is None:
                    work.pop()
                    if work:
                        low[work[-1][0]] = min(low[work[-1][0]], low[node])
                    if low[node] == index[node]:
                        number = next(numbers)
                        while node not in group:
                            group[stack.pop()] = number
                elif target not in index:
                    visit(target)
                elif target not in group:  # still on the stack: part of the current component
                    low[node] = min(low[node], index[target])
        return group


def describe_loop(loop: tuple[LocalCall, ...]) -> str:
    return (f"module calls loop, which Terraform rejects: {'; '.join(c.describe() for c in loop)}. "
            "The call closing the loop is not followed; the rest is evaluated")


def _in_call_order(calls: list[LocalCall]) -> tuple[LocalCall, ...]:
    """The calls of a loop from the first written, each followed by a call in the module it calls."""
    remaining = sorted(calls, key=lambda c: (c.path, c.line))
    ordered = [remaining.pop(0)]
    while remaining:
        after = next((c for c in remaining if c.caller == ordered[-1].target), remaining[0])
        remaining.remove(after)
        ordered.append(after)
    return tuple(ordered)


__all__ = ["CallGraph", "LocalCall", "describe_loop"]
