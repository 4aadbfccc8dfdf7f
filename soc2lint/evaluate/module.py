"""A Terraform module evaluated as Terraform would: variables, locals, instances, references.

`Module` is a directory's blocks after the override merge; `ModuleInstance` evaluates it with
the values of its variables (tfvars for a root, a call's arguments for a child) and yields one
entity per resource instance, recursing into local module calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..derive.iam import policy_document_json
from ..model import DictLocator, Entity, RelatedLocation, Span
from ..parsers.terraform import FRAMEWORK, Attribute, Block, Body, TfFile, parse_expression
from ..secrets import without_credentials
from . import budget
from .addresses import META_ARGUMENTS, SINGLE, identity, instance_suffix, is_local_source
from .body import evaluate_body, json_expression
from .budget import BudgetExceeded
from .expressions import EmptyScope, EvalError, Evaluator, Lazy, to_string
from .references import BlockRef, CallRef, Namespace
from .types import convert as convert_type
from .values import Origin, Ref, Unknown, kind_of, sourced

if TYPE_CHECKING:
    from .project import Project



@dataclass
class Declared:
    """A block and the file it was written in."""

    block: Block
    file: TfFile
    overridden_by: list[tuple[str, Span]] = field(default_factory=list)


@dataclass
class Module:
    """The blocks of one directory, overrides merged in."""

    directory: str
    files: list[TfFile]
    blocks: list[Declared] = field(default_factory=list)
    variables: dict[str, Declared] = field(default_factory=dict)
    locals: dict[str, tuple[Attribute, TfFile]] = field(default_factory=dict)
    resources: dict[tuple[str, str, str], Declared] = field(default_factory=dict)
    calls: dict[str, Declared] = field(default_factory=dict)
    outputs: dict[str, Declared] = field(default_factory=dict)
    duplicates: list[tuple[Declared, Declared]] = field(default_factory=list)  # (later, earlier)

    def __post_init__(self) -> None:
        for file in sorted(self.files, key=lambda f: (f.is_override, f.path)):
            for block in file.blocks:
                self._add(Declared(block, file), file.is_override)
        self.resource_types = {key[1] for key in self.resources if key[0] == "resource"}

    def _add(self, entry: Declared, override: bool) -> None:
        block = entry.block
        if block.kind == "locals":
            for name, attr in block.body.attributes.items():
                self.locals[name] = (attr, entry.file)
            if not override:
                self.blocks.append(entry)
            return
        key = _key(block)
        table = self._table(block.kind)
        if override and key is not None and table is not None and key in table:
            table[key].block = _merged(table[key], entry)
            table[key].overridden_by.append((entry.file.path, block.span))
            return
        if key is not None and table is not None:
            if key in table:
                self.duplicates.append((entry, table[key]))
            table[key] = entry
        self.blocks.append(entry)

    def _table(self, kind: str) -> dict | None:
        return {"resource": self.resources, "data": self.resources, "variable": self.variables,
                "module": self.calls, "output": self.outputs}.get(kind)

    def local_calls(self) -> Iterator[tuple[str, str]]:
        """(call name, source) of every module call whose source is a local path."""
        for name, entry in self.calls.items():
            source = _literal(entry.block.body.attributes.get("source"), entry.file)
            if is_local_source(source):
                yield name, source


def _key(block: Block) -> Any:
    if block.kind in ("resource", "data") and len(block.labels) >= 2:
        return (block.kind, block.labels[0], block.labels[1])
    if block.kind in ("variable", "module", "output") and block.labels:
        return block.labels[0]
    return None


def _merged(primary: Declared, override: Declared) -> Block:
    """Terraform's override merge: attributes replace, nested blocks of a type replace all.

    An overriding attribute is located where the attribute it replaces was written (or at the
    block): findings stay in the block's own file, with the override file as a related location.
    """
    attributes = dict(primary.block.body.attributes)
    for name, attr in override.block.body.attributes.items():
        original = attributes.get(name)
        span = original.span if original is not None else primary.block.span
        attributes[name] = dataclasses.replace(attr, text=override.file.text, span=span)
    replaced = {nested.type for nested in override.block.body.blocks}
    blocks = [b for b in primary.block.body.blocks if b.type not in replaced] + override.block.body.blocks
    return dataclasses.replace(primary.block, body=Body(attributes, blocks))


def _literal(attr: Attribute | None, file: TfFile) -> Any:
    if attr is None:
        return None
    return _value(attr, file, _evaluator_for(file, attr, EmptyScope(), {}))


def _evaluator_for(file: TfFile, attr: Attribute | None, scope: Any, bindings: dict) -> Evaluator:
    text = attr.text if attr is not None and attr.text is not None else file.text
    return Evaluator(text, scope, bindings, parse_expression, file.path)


def _value(attr: Attribute, file: TfFile, evaluator: Evaluator) -> Any:
    """An attribute's value, written in native syntax or as a `.tf.json` value."""
    if file.is_json:
        return json_expression(attr.expression, evaluator)
    return evaluator.value(attr.expression)


@dataclass(frozen=True)
class CallSite:
    """Where a module instance was called from."""

    path: str
    span: Span
    address: str


class ModuleInstance:
    """One instance of a module: the root, or a call (`module.a`, `module.b["x"]`)."""

    def __init__(self, project: Project, module: Module, prefix: str = "",
                 inputs: Callable[[str], Any] | None = None, chain: tuple[CallSite, ...] = (),
                 context: str = "", lineage: tuple[str, ...] = (),
                 created: bool | Unknown = True) -> None:
        self.project = project
        self.created = created  # UNKNOWN when the call's count or for_each (or a caller's) is
        self.module = module
        self.prefix = prefix
        self.inputs = inputs
        self.chain = chain
        self.context = context
        self.lineage = (*lineage, module.directory)  # the directories of this call and its callers
        self.root_values = project.root_values(module) if inputs is None else {}
        self._locals: dict[str, Any] = {}
        self._variables: dict[str, Any] = {}
        self._instances: dict[tuple, Instance] = {}
        self._keys: dict[int, Any] = {}
        self._collections: dict[int, Any] = {}
        self._children: dict[tuple[str, Any], ModuleInstance | None] = {}
        self._busy: set = set()

    # -- names -----------------------------------------------------------------------------
    def lookup(self, name: str, source: str) -> Any:
        if name == "var":
            return Namespace(lambda n, s: self.variable(n))
        if name == "local":
            return Namespace(lambda n, s: self.local(n))
        if name == "module":
            return Namespace(lambda n, s: self.call_ref(n))
        if name == "data":
            return Namespace(lambda t, s: Namespace(lambda n, s2: self.block_ref("data", t, n)))
        if name == "path":
            return {"module": self.module.directory, "root": ".", "cwd": "."}
        if name == "terraform":
            return {"workspace": Unknown("terraform.workspace is chosen when Terraform runs")}
        if name in self.module.resource_types:
            return Namespace(lambda n, s: self.block_ref("resource", name, n))
        if name in ("count", "each", "self"):
            raise EvalError(f"'{name}' is not available here")
        return Unknown(f"{source}: '{name}' is not declared in this module")

    def variable(self, name: str) -> Any:
        """The variable's value, evaluated once; a default that refers to itself is UNKNOWN."""
        if name in self._variables:
            return self._variables[name]
        if name not in self.module.variables:
            raise EvalError(f"variable '{name}' is not declared")
        key = ("var", name)
        if key in self._busy:
            return Unknown(f"var.{name} refers to itself")
        self._busy.add(key)
        try:
            value = self._variable(name, self.module.variables[name])
        finally:
            self._busy.discard(key)
        self._variables[name] = value
        return value

    def _variable(self, name: str, entry: Declared) -> Any:
        value: Any = _MISSING
        if self.inputs is not None:
            value = self.inputs(name)
        elif name in self.root_values:
            value = self.root_values[name]
        if value is None and _literal(entry.block.body.attributes.get("nullable"), entry.file) is False:
            value = _MISSING  # null given to a non-nullable variable: its default applies
        default = None
        if value is _MISSING:
            default = entry.block.body.attributes.get("default")
            if default is None:
                return Unknown(f"var.{name} has no value")
            value = self._attribute_value(default, entry.file, {})
        type_attr = entry.block.body.attributes.get("type")
        if type_attr is not None and not entry.file.is_json:
            value = convert_type(value, type_attr.expression, _evaluator_for(entry.file, type_attr, self, {}))
        if default is not None:
            value = sourced(value, Origin(entry.file.path, default.span, f"{self.prefix}variable.{name}",
                                          "default"))
        return value

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        found = self.module.locals.get(name)
        if found is None:
            raise EvalError(f"local value '{name}' is not declared")
        key = ("local", name)
        if key in self._busy:
            return Unknown(f"local.{name} refers to itself")
        self._busy.add(key)
        try:
            value = self._attribute_value(found[0], found[1], {})
        finally:
            self._busy.discard(key)
        self._locals[name] = value
        return value

    def block_ref(self, kind: str, type_: str, name: str) -> Lazy:
        entry = self.module.resources.get((kind, type_, name))
        if entry is None:
            prefix = "data." if kind == "data" else ""
            raise EvalError(f"{prefix}{type_}.{name} is not declared")
        return BlockRef(self, entry)

    def call_ref(self, name: str) -> Lazy:
        entry = self.module.calls.get(name)
        if entry is None:
            raise EvalError(f"module '{name}' is not declared")
        return CallRef(self, entry)

    # -- evaluation ------------------------------------------------------------------------
    def _attribute_value(self, attr: Attribute, file: TfFile, bindings: dict) -> Any:
        return _value(attr, file, _evaluator_for(file, attr, self, bindings))

    def keys(self, entry: Declared) -> Any:
        """The instance keys of a block: [SINGLE], a list of keys, or an Unknown."""
        cache_key = id(entry)
        if cache_key not in self._keys:
            self._keys[cache_key] = self._compute_keys(entry)
        return self._keys[cache_key]

    def _compute_keys(self, entry: Declared) -> Any:
        attrs = entry.block.body.attributes
        if "count" in attrs:
            count = self._attribute_value(attrs["count"], entry.file, {})
            if isinstance(count, Unknown):
                return count
            try:
                number = float(to_string(count))
            except (EvalError, ValueError):
                return Unknown(f"count is not a whole number (got {kind_of(count)})")
            if number != number or number < 0:
                return Unknown("count is not a whole number of zero or more")
            return self._limited(entry, attrs["count"], number) or list(range(int(number)))
        if "for_each" in attrs:
            each = self._for_each(entry)
            if isinstance(each, Unknown):
                return each
            if isinstance(each, dict | list):
                limited = self._limited(entry, attrs["for_each"], len(each))
                if limited is not None:
                    return limited
            if isinstance(each, dict):
                return sorted(each)
            if isinstance(each, list):
                if any(isinstance(v, Unknown) for v in each):
                    return next(v for v in each if isinstance(v, Unknown))
                try:
                    return sorted({to_string(v) for v in each})
                except EvalError:
                    return Unknown("for_each over a list that is not of strings")
            return Unknown("for_each needs a map or a set of strings")
        return [SINGLE]

    def _limited(self, entry: Declared, attr: Attribute, count: float) -> Unknown | None:
        """An Unknown, reported at the attribute, when `count` instances pass the limit."""
        meter = budget.current()
        try:
            meter.check_count(count)
        except BudgetExceeded as exc:
            meter.report(exc, entry.file.path, attr.span.line)
            return Unknown(f"{entry.block.kind} instances: {exc}")
        return None

    def _for_each(self, entry: Declared) -> Any:
        """The block's `for_each` collection, evaluated once."""
        if id(entry) not in self._collections:
            attr = entry.block.body.attributes["for_each"]
            self._collections[id(entry)] = self._attribute_value(attr, entry.file, {})
        return self._collections[id(entry)]

    def bindings(self, entry: Declared, key: Any) -> dict:
        attrs = entry.block.body.attributes
        keys = self.keys(entry)
        if "count" in attrs:
            return {"count": {"index": key if isinstance(key, int) else keys}}
        if "for_each" in attrs:
            if isinstance(keys, Unknown):
                return {"each": {"key": keys if key is SINGLE or isinstance(key, Unknown) else key,
                                 "value": keys}}
            each = self._for_each(entry)
            value = each[key] if isinstance(each, dict) else key
            return {"each": {"key": key, "value": value}}
        return {}

    def instance(self, entry: Declared, key: Any) -> Instance:
        cache_key = (id(entry), repr(key))
        if cache_key not in self._instances:
            self._instances[cache_key] = Instance(self, entry, key)
        return self._instances[cache_key]

    def child(self, name: str, key: Any) -> ModuleInstance | None:
        """The module instance a local call creates (None for a remote or missing source)."""
        if (name, repr(key)) in self._children:
            return self._children[(name, repr(key))]
        entry = self.module.calls[name]
        result = None
        source = _literal(entry.block.body.attributes.get("source"), entry.file)
        address = f"{self.prefix}module.{name}{instance_suffix(key)}"
        meter = budget.current()
        depth = meter.budgets.max_module_depth
        local = is_local_source(source)
        if local and len(self.chain) >= depth:
            self.project.note_too_deep(entry.file.path, entry.block.span.line, address, depth)
        elif local and self._admit(entry):
            module = self.project.module_for_call(self.module, source, entry.file.path,
                                                  entry.block.span.line)
            if module is not None and module.directory not in self.lineage:  # a loop: reported
                bindings = self.bindings(entry, key)
                call = CallSite(entry.file.path, entry.block.span, address)
                keys = self.keys(entry)
                result = ModuleInstance(self.project, module, f"{address}.",
                                        self._input_getter(entry, bindings, address),
                                        (*self.chain, call), self.context or self.module.directory,
                                        self.lineage, keys if isinstance(keys, Unknown) else self.created)
        self._children[(name, repr(key))] = result
        return result

    def _admit(self, entry: Declared) -> bool:
        """Whether one more module instance fits in the scan's limit (reported at the call when not)."""
        meter = budget.current()
        meter.module_instances += 1
        if meter.module_instances <= meter.budgets.max_module_instances:
            return True
        exceeded = BudgetExceeded("max_module_instances", meter.budgets)
        meter.report(exceeded, entry.file.path, entry.block.span.line)
        return False

    def _input_getter(self, entry: Declared, bindings: dict, address: str) -> Callable[[str], Any]:
        """The call's arguments; a string written in the call keeps it as its origin."""
        cache: dict[str, Any] = {}

        def get(name: str) -> Any:
            if name not in cache:
                attr = entry.block.body.attributes.get(name)
                if attr is None or name in META_ARGUMENTS:
                    return _MISSING
                # seen while it is being evaluated: the input refers to itself
                cache[name] = Unknown(f"module input '{name}' refers to itself")
                origin = Origin(entry.file.path, attr.span, address, name)
                cache[name] = sourced(self._attribute_value(attr, entry.file, bindings), origin)
            return cache[name]

        return get

    # -- entities --------------------------------------------------------------------------
    def entities(self, wanted: Callable[[str], bool] = lambda path: True,
                 context: list[Entity] | None = None) -> Iterator[Entity]:
        """One entity per block instance in the files `wanted`, then those of local module calls:
        all of a module's when the call is in a file wanted (the call decides its findings).
        Entities of the other files go to `context`, when given: rules are not run on them, but
        they can be joined (an account-wide setting in a sibling file of a file asked for)."""
        related = tuple(RelatedLocation(site.path, site.span, f"{site.address} is called here")
                        for site in reversed(self.chain))
        for entry in self.module.blocks:
            if wanted(entry.file.path):
                yield from self._guarded(entry, related)
            elif context is not None and entry.block.kind == "resource":
                context.extend(self._guarded(entry, related))
        for name, entry in self.module.calls.items():
            keys = self.keys(entry)
            inner = _everything if wanted(entry.file.path) else wanted
            for key in keys if isinstance(keys, list) else [SINGLE]:
                child = self.child(name, key)
                if child is not None:
                    yield from child.entities(inner, context)

    def _guarded(self, entry: Declared, related: tuple) -> list[Entity]:
        """The block's entities; an unexpected failure is an error naming the block, and the
        other blocks are still evaluated."""
        try:
            return list(self._block_entities(entry, related))
        except Exception as exc:  # a defect must not end the scan
            self.project.note_failure(entry.file.path, entry.block.span.line, exc)
            return []

    def _block_entities(self, entry: Declared, related: tuple) -> Iterator[Entity]:
        block = entry.block
        named = identity(block)
        if named is None:
            return
        etype, base = named
        base = self.prefix + base
        created = self.created
        if block.kind in ("resource", "data", "module"):
            keys = self.keys(entry)
            if isinstance(keys, Unknown):
                keys, created = [keys], Unknown(f"whether {base} is created: {keys.reason}")
        else:
            keys = [SINGLE]
        related = related + tuple(RelatedLocation(path, span, f"{base} is overridden here")
                                  for path, span in entry.overridden_by)
        for key in keys:
            instance = self.instance(entry, key)
            data, locator = instance.evaluated()
            if block.kind == "module" and isinstance(data.get("source"), str):
                data = {**data, "source": without_credentials(data["source"])}  # rules may show it
            known_key = None if key is SINGLE or isinstance(key, Unknown) else key
            address = base + instance_suffix(known_key)
            yield Entity(FRAMEWORK, block.kind, etype, address, entry.file.path, block.span, data,
                         locator, address,
                         instance_key=None if known_key is None else to_string(known_key),
                         related=related, context=self.context, created=created)


_MISSING = object()


class Instance:
    """One instance of a resource, data source, module call or other block."""

    def __init__(self, module: ModuleInstance, entry: Declared, key: Any) -> None:
        self.module = module
        self.entry = entry
        self.key = key
        block = entry.block
        named = identity(block)
        self.base = module.prefix + (named[1] if named else block.kind)
        known = None if key is SINGLE or isinstance(key, Unknown) else key
        self.address = self.base + instance_suffix(known)
        self.bindings = module.bindings(entry, key) if block.kind in ("resource", "data", "module") else {}
        self._values: dict[str, Any] = {}
        self._evaluated: tuple | None = None

    def evaluator(self, attr: Attribute | None) -> Evaluator:
        return _evaluator_for(self.entry.file, attr, self.module, self.bindings)

    def attribute(self, name: str) -> Any:
        """The value of one attribute, or a reference to it when the provider computes it."""
        if name in self._values:
            return self._values[name]
        body = self.entry.block.body
        busy = (self.address, name)
        if busy in self.module._busy:
            return Unknown(f"{self.address}.{name} refers to itself")
        self.module._busy.add(busy)
        try:
            value = self._attribute(name, body)
        finally:
            self.module._busy.discard(busy)
        self._values[name] = value
        return value

    def _attribute(self, name: str, body: Body) -> Any:
        block = self.entry.block
        if block.kind == "data" and block.labels[0] == "aws_iam_policy_document" and name in (
                "json", "minified_json"):
            data, _ = self.evaluated()
            return policy_document_json(data, f"{self.address}.{name}")
        attr = body.attributes.get(name)
        if attr is not None:
            return _value(attr, self.entry.file, self.evaluator(attr))
        if any(nested.type == name or (nested.type == "dynamic" and nested.labels[:1] == [name])
               for nested in body.blocks):
            data, _ = self.evaluated()
            return data.get(name, [])
        return Ref(f"{self.address}.{name}", self.base, None if self.key is SINGLE else self.key, name)

    def evaluated(self) -> tuple[dict, Any]:
        """The whole body as data, with the locator of its spans."""
        if self._evaluated is None:
            entry = self.entry
            if entry.file.is_json:
                data = {name: self.attribute(name) for name in entry.block.body.attributes}
                self._evaluated = (data, entry.block.locator or DictLocator())
            else:
                data, spans = evaluate_body(entry.block.body, self.evaluator,
                                            lambda name, attr, ev: self.attribute(name))
                self._evaluated = (data, DictLocator(spans))
        return self._evaluated


__all__ = ["CallSite", "Declared", "Instance", "Module", "ModuleInstance"]


def _everything(path: str) -> bool:
    return True
