"""Terraform addresses: a block's type and address, and the instance-key suffix."""

from __future__ import annotations

from typing import Any

from ..parsers.terraform import Block
from .expressions import Evaluator
from .values import Unknown

SINGLE = object()  # the instance key of a block without count or for_each
# Arguments of a module call that are not inputs of the module.
META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


def is_local_source(source: Any) -> bool:
    """Whether a module `source` is a directory of the same repository (`./x`, `../x`)."""
    return isinstance(source, str) and source.startswith(("./", "../"))


def identity(block: Block) -> tuple[str, str] | None:
    labels = block.labels
    if block.kind in ("resource", "data") and len(labels) >= 2:
        address = f"{labels[0]}.{labels[1]}" if block.kind == "resource" else f"data.{labels[0]}.{labels[1]}"
        return labels[0], address
    if block.kind in ("module", "variable", "output") and labels:
        return labels[0], f"{block.kind}.{labels[0]}"
    if block.kind == "provider" and labels:
        alias = block.body.attributes.get("alias")
        value = None if alias is None else alias.expression if isinstance(alias.expression, str) \
            else Evaluator("").value(alias.expression)
        return labels[0], f"provider.{labels[0]}" + (f".{value}" if isinstance(value, str) else "")
    if block.kind in ("locals", "terraform"):
        return block.kind, f"{block.kind}@{block.span.line}"
    return None


def instance_suffix(key: Any) -> str:
    if key is None or key is SINGLE or isinstance(key, Unknown):
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return '["' + str(key).replace("\\", "\\\\").replace('"', '\\"') + '"]'


__all__ = ["META_ARGUMENTS", "SINGLE", "identity", "instance_suffix", "is_local_source"]
