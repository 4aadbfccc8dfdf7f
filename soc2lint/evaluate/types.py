"""Terraform's type constraints on variables: conversion and `optional()` attribute defaults.

`type = map(object({ enabled = optional(bool, true), name = string }))` makes a missing
`enabled` true and the string "false" the bool false; without this, modules that rely on
optional attributes would read as errors. Values that do not convert are left as they are.
"""

from __future__ import annotations

from typing import Any

from .expressions import Evaluator, to_bool, to_number, to_string
from .values import EvalError, Unknown

_COLLECTIONS = ("map", "list", "set")


def convert(value: Any, type_node: tuple | None, evaluator: Evaluator) -> Any:
    """`value` converted to the type the node describes (a compact expression tree)."""
    if type_node is None or isinstance(value, Unknown) or value is None:
        return value
    kind = type_node[0]
    if kind == "name":
        return _primitive(value, type_node[2])
    if kind != "call":
        return value
    name, args = type_node[2], type_node[3]
    try:
        if name in _COLLECTIONS and args:
            if isinstance(value, dict) and name == "map":
                return {k: convert(v, args[0], evaluator) for k, v in value.items()}
            if isinstance(value, list) and name in ("list", "set"):
                return [convert(v, args[0], evaluator) for v in value]
        if name == "object" and args and args[0][0] == "object" and isinstance(value, dict):
            return _object(value, args[0], evaluator)
        if name == "optional" and args:
            return convert(value, args[0], evaluator)
    except EvalError:
        return value
    return value


def _object(value: dict, spec: tuple, evaluator: Evaluator) -> dict:
    result = dict(value)
    for key_node, attr_type, _pos in spec[2]:
        key = key_node[1] if key_node[0] == "key" else evaluator.object_key(key_node)
        if not isinstance(key, str):
            continue
        if key in result:
            result[key] = convert(result[key], attr_type, evaluator)
        elif attr_type[0] == "call" and attr_type[2] == "optional":
            default = evaluator.value(attr_type[3][1]) if len(attr_type[3]) > 1 else None
            result[key] = convert(default, attr_type[3][0], evaluator)
    return result


def _primitive(value: Any, name: str) -> Any:
    try:
        if name == "bool":
            return to_bool(value)
        if name == "number":
            return to_number(value)
        if name == "string" and not isinstance(value, dict | list):
            return to_string(value)
    except EvalError:
        return value
    return value


__all__ = ["convert"]
