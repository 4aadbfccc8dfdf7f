"""What a reference evaluates to: `var`, `aws_s3_bucket.x`, `aws_s3_bucket.x[0]`, `module.m`.

Each is `Lazy`: attributes and instances are evaluated only when an expression reads them, so a
reference to a computed attribute (`aws_kms_key.k.arn`) becomes a `Ref` without evaluating
anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .addresses import SINGLE, identity, instance_suffix
from .expressions import EvalError, Lazy, to_string
from .values import Ref, Unknown

if TYPE_CHECKING:
    from .module import Declared, Instance, ModuleInstance


class Namespace(Lazy):
    def __init__(self, getter: Callable[[str, str], Any], whole: str = "") -> None:
        self.getter = getter
        self.label = whole

    def get(self, name: str, source: str) -> Any:
        return self.getter(name, source)

    def whole(self, source: str) -> Any:
        return Unknown(f"{source}: a namespace is not a value")


class BlockRef(Lazy):
    """`aws_s3_bucket.logs` (or `data.x.y`) in an expression: its instances and attributes."""

    def __init__(self, module: ModuleInstance, entry: Declared) -> None:
        self.module = module
        self.entry = entry
        self.base = module.prefix + (identity(entry.block) or ("", ""))[1]

    def _single(self) -> Instance | None:
        keys = self.module.keys(self.entry)
        return self.module.instance(self.entry, SINGLE) if keys == [SINGLE] else None

    def get(self, name: str, source: str) -> Any:
        single = self._single()
        if single is not None:
            return single.attribute(name)
        return Ref(source, self.base, None, name)

    def at(self, key: Any, source: str) -> Any:
        keys = self.module.keys(self.entry)
        if isinstance(keys, list) and keys != [SINGLE]:
            if isinstance(key, int | float) and not isinstance(key, bool) and "count" in \
                    self.entry.block.body.attributes:
                key = int(key)
            else:
                key = to_string(key)
            if key not in keys:
                raise EvalError(f"{self.base} has no instance {_named(key)}")
            return InstanceRef(self.module.instance(self.entry, key))
        if isinstance(keys, Unknown) and not isinstance(key, Unknown):
            # how many instances there are is unknown; the one named is evaluated as if it exists
            return InstanceRef(self.module.instance(self.entry, key))
        return Ref(source, self.base, key if not isinstance(key, Unknown) else None)

    def splat(self, source: str) -> Any:
        keys = self.module.keys(self.entry)
        if isinstance(keys, Unknown):
            return keys
        return [InstanceRef(self.module.instance(self.entry, key)) for key in keys]

    def whole(self, source: str) -> Any:
        single = self._single()
        if single is not None:
            return Ref(source, self.base, None)
        keys = self.module.keys(self.entry)
        if isinstance(keys, list) and "for_each" in self.entry.block.body.attributes:
            return {k: Ref(self.base + instance_suffix(k), self.base, k) for k in keys}
        if isinstance(keys, list):
            return [Ref(f"{self.base}[{k}]", self.base, k) for k in keys]
        return Ref(source, self.base, None)


class InstanceRef(Lazy):
    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    def get(self, name: str, source: str) -> Any:
        return self.instance.attribute(name)

    def whole(self, source: str) -> Any:
        key = self.instance.key
        return Ref(source, self.instance.base, None if key is SINGLE else key)


class CallRef(Lazy):
    """`module.a` in an expression: the outputs of the called module's instances."""

    def __init__(self, module: ModuleInstance, entry: Declared) -> None:
        self.module = module
        self.entry = entry
        self.name = entry.block.labels[0]

    def _output(self, key: Any, name: str, source: str) -> Any:
        child = self.module.child(self.name, key)
        if child is None:
            return Unknown(f"{source}: module '{self.name}' is not evaluated (remote or missing source)")
        entry = child.module.outputs.get(name)
        if entry is None:
            raise EvalError(f"module '{self.name}' has no output '{name}'")
        attr = entry.block.body.attributes.get("value")
        if attr is None:
            return None
        return child._attribute_value(attr, entry.file, {})

    def get(self, name: str, source: str) -> Any:
        keys = self.module.keys(self.entry)
        if keys == [SINGLE]:
            return self._output(SINGLE, name, source)
        return Unknown(f"{source}: module '{self.name}' has several instances")

    def at(self, key: Any, source: str) -> Any:
        keys = self.module.keys(self.entry)
        if isinstance(keys, Unknown):
            return keys
        key = int(key) if isinstance(key, int | float) and not isinstance(key, bool) else to_string(key)
        if key not in keys:
            raise EvalError(f"module '{self.name}' has no instance {_named(key)}")
        return Namespace(lambda n, s: self._output(key, n, s))

    def whole(self, source: str) -> Any:
        return Unknown(f"{source}: the whole module object is not evaluated")


def _named(key: Any) -> str:
    """An instance key as an error names it: a count index, not a for_each key's text (which may
    come from a literal)."""
    return instance_suffix(key) if isinstance(key, int) else "with that key"


__all__ = ["BlockRef", "CallRef", "InstanceRef", "Namespace"]
