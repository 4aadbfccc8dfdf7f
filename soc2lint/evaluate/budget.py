"""Limits on Terraform evaluation, so hostile or runaway code ends as UNKNOWN and never hangs.

`Budgets` holds the limits (configurable as `terraform.limits.<name>`); a `Meter` counts what one
scan spends against them and remembers where a limit was first hit, for one warning per place.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field, fields
from typing import Any

from ..model import Notification


@dataclass(frozen=True)
class Budgets:
    """How far Terraform evaluation goes before a value is left UNKNOWN."""

    # the largest string: an S3 policy or a user-data script is far below 1 MiB
    max_string_length: int = 1 << 20
    # the most elements of one value at every depth (a part held twice counts twice, as encoding
    # or walking it would), or of one instance key list: far above real configurations
    max_collection_size: int = 100_000
    # local module calls followed from a root: real module trees are a few levels deep
    max_module_depth: int = 16
    # module instances created in one scan: bounds fan-out where modules call several others
    max_module_instances: int = 10_000
    # expression evaluation steps per root module: seconds of work, not minutes
    max_steps: int = 10_000_000

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


LIMIT_TEXT = {
    "max_string_length": "a string longer than {} characters",
    "max_collection_size": "a value of more than {} elements",
    "max_module_depth": "module calls nested more than {} deep",
    "max_module_instances": "more than {} module instances in one scan",
    "max_steps": "more than {} evaluation steps in one root module",
}


class BudgetExceeded(Exception):
    """A limit was reached; `try` and `can` do not catch it, the enclosing value becomes UNKNOWN."""

    def __init__(self, limit: str, budgets: Budgets) -> None:
        self.limit = limit
        self.text = LIMIT_TEXT[limit].format(f"{getattr(budgets, limit):,}")
        super().__init__(f"not evaluated: {self.text} (terraform.limits.{limit})")


@dataclass
class Meter:
    """What one scan has spent; `steps` restarts for each root module."""

    budgets: Budgets = field(default_factory=Budgets)
    steps: int = 0
    module_instances: int = 0
    notifications: list[Notification] = field(default_factory=list)
    _places: set[tuple[str, str, int | None]] = field(default_factory=set)
    _sizes: dict[int, tuple[Any, int]] = field(default_factory=dict)  # by id, with the value
    _steps_reported: bool = False

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.budgets.max_steps:
            raise BudgetExceeded("max_steps", self.budgets)

    def size(self, value: Any) -> Any:
        """The value, or BudgetExceeded when it is a string or collection over its limit."""
        if isinstance(value, str):
            if len(value) > self.budgets.max_string_length:
                raise BudgetExceeded("max_string_length", self.budgets)
        elif isinstance(value, list | dict) and self.elements(value) > self.budgets.max_collection_size:
            raise BudgetExceeded("max_collection_size", self.budgets)
        return value

    def elements(self, value: list | dict) -> int:
        """The elements `value` holds at every depth, a part held twice counted twice; remembered
        per container, so values built a level at a time cost one look per level, and the count
        stops soon after the limit."""
        known = self._sizes.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        total = len(value)
        try:
            for item in value.values() if isinstance(value, dict) else value:
                if isinstance(item, list | dict):
                    total += self.elements(item)
                    if total > self.budgets.max_collection_size:
                        break
        except RecursionError:  # nested deeper than Python can walk: far past any limit
            total = self.budgets.max_collection_size + 1
        self._sizes[id(value)] = (value, total)
        return total

    def check_length(self, length: int) -> None:
        """Raise before building a string of `length` characters over the limit."""
        if length > self.budgets.max_string_length:
            raise BudgetExceeded("max_string_length", self.budgets)

    def check_count(self, count: float) -> None:
        """Raise before building a collection of `count` elements over the limit."""
        if count > self.budgets.max_collection_size:
            raise BudgetExceeded("max_collection_size", self.budgets)

    def new_root(self) -> None:
        self._sizes.clear()
        self.steps = 0
        self._steps_reported = False

    def report(self, exceeded: BudgetExceeded, path: str, line: int | None) -> None:
        """A warning at the place a limit was hit: once per limit and place, and for the steps of
        a root module only where they ran out (everything after is UNKNOWN too)."""
        if exceeded.limit == "max_steps":
            if self._steps_reported:
                return
            self._steps_reported = True
        place = (exceeded.limit, path, line)
        if place in self._places:
            return
        self._places.add(place)
        self.notifications.append(Notification(
            path, f"Terraform evaluation stopped at {exceeded.text}: the value is unknown "
            f"(limit terraform.limits.{exceeded.limit})", "warning", line))


_CURRENT: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("soc2lint_meter", default=None)


def current() -> Meter:
    """The meter of the evaluation under way; a fresh one with the default limits outside a scan."""
    meter = _CURRENT.get()
    if meter is None:
        meter = Meter()
        _CURRENT.set(meter)
    return meter


def activate(meter: Meter) -> contextvars.Token:
    return _CURRENT.set(meter)


def deactivate(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


__all__ = ["LIMIT_TEXT", "BudgetExceeded", "Budgets", "Meter", "activate", "current", "deactivate"]
