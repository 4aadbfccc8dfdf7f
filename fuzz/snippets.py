"""Known-dangerous snippets, by name, for the languages soc2lint reads.

A `value` snippet replaces the value of a `key: value` or `name = value` line; a `line` snippet
is inserted as whole lines. Names are stable: a run can leave some out (`--exclude`).
"""

from __future__ import annotations

from dataclasses import dataclass

YAML = ("yaml", "workflow")
HCL = ("hcl", "tfvars")
ALL = (*YAML, *HCL, "json")


@dataclass(frozen=True)
class Snippet:
    name: str
    languages: tuple[str, ...]
    form: str  # value | line
    text: str


def _deep(open_: str, close: str, depth: int, middle: str = "1") -> str:
    return open_ * depth + middle + close * depth


HUGE_INT = "9" * 5000
LONG = "A" * 200_000
_BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))

SNIPPETS = [
    # YAML
    Snippet("yaml-int-tag", YAML, "value", "!!int abc"),
    Snippet("yaml-float-tag", YAML, "value", "!!float abc"),
    Snippet("yaml-bool-tag", YAML, "value", "!!bool maybe"),
    Snippet("yaml-set-tag", YAML, "value", "!!set [a]"),
    Snippet("yaml-timestamp-tag", YAML, "value", "!!timestamp x"),
    Snippet("yaml-timestamp-out-of-range", YAML, "value", "0000-00-00"),
    Snippet("yaml-binary-tag", YAML, "value", "!!binary '%%%'"),
    Snippet("yaml-omap-tag", YAML, "value", "!!omap [a]"),
    Snippet("yaml-python-tag", YAML, "value", '!!python/object/apply:os.system ["true"]'),
    Snippet("yaml-unknown-tag", YAML, "value", "!Ref x"),
    Snippet("yaml-self-alias", YAML, "value", "&a [*a]"),
    Snippet("yaml-undefined-alias", YAML, "value", "*nowhere"),
    Snippet("yaml-alias-bomb", YAML, "line", "l0: &l0 [x]\n" + _BOMB),
    Snippet("yaml-merge-alias", YAML, "line", "base: &base {a: 1}\nmerged:\n  <<: *base\n  b: 2"),
    Snippet("yaml-merge-scalar", YAML, "line", "<<: x"),
    Snippet("yaml-merge-list", YAML, "line", "<<: [1, 2]"),
    Snippet("yaml-complex-key", YAML, "line", "? [a, b]\n: c"),
    Snippet("yaml-null-key", YAML, "line", "~: x"),
    Snippet("yaml-duplicate-key", YAML, "line", "name: a\nname: b"),
    Snippet("yaml-deep-flow", YAML, "value", _deep("[", "]", 5000)),
    Snippet("yaml-deep-map", YAML, "value", _deep("{a: ", "}", 3000)),
    Snippet("yaml-huge-int", YAML, "value", HUGE_INT),
    Snippet("yaml-huge-float", YAML, "value", "1e999"),
    Snippet("yaml-nan", YAML, "value", ".nan"),
    Snippet("yaml-documents", YAML, "line", "---\n...\n---\n- a\n---"),
    Snippet("yaml-directive", YAML, "line", "%YAML 1.1\n---"),
    Snippet("yaml-list-root", YAML, "line", "- [a, b]"),
    Snippet("yaml-control-chars", YAML, "value", '"\\0\\x1b[31m\\u202e"'),
    # GitHub Actions
    Snippet("gha-expression-unclosed", YAML, "value", "${{ github.event.issue.title"),
    Snippet("gha-expression-nested", YAML, "value", "${{ format('{0}', '${{ x }}') }}"),
    Snippet("gha-expression-deep", YAML, "value", "${{ " + _deep("(", ")", 3000, "a") + " }}"),
    Snippet("gha-expression-call", YAML, "value", "${{ fromJSON(toJSON(fromJSON('[1e999]'))) }}"),
    Snippet("gha-expression-string", YAML, "value", "${{ 'unterminated }}"),
    Snippet("gha-expression-many", YAML, "value", "${{ a }}" * 20_000),
    Snippet("gha-uses-odd", YAML, "line", "uses: ./@@@/\0"),
    Snippet("gha-on-odd", YAML, "line", "on: {push: [1, {a: b}], workflow_call: 3}"),
    Snippet("gha-permissions-odd", YAML, "line", "permissions: [write-all, {contents: 5}]"),
    Snippet("gha-steps-scalar", YAML, "line", "steps: 5\njobs: [a]"),
    # HCL
    Snippet("hcl-huge-float", HCL, "value", "1e999"),
    Snippet("hcl-huge-int", HCL, "value", HUGE_INT),
    Snippet("hcl-negative-huge", HCL, "value", "-" + HUGE_INT),
    Snippet("hcl-count-huge", ("hcl",), "line", "count = 1e18"),
    Snippet("hcl-count-negative", ("hcl",), "line", "count = -1"),
    Snippet("hcl-count-fraction", ("hcl",), "line", "count = 0.5"),
    Snippet("hcl-for-each-range", ("hcl",), "line", "for_each = toset([for i in range(1e7) : tostring(i)])"),
    Snippet("hcl-range-huge", HCL, "value", "range(1e18)"),
    Snippet("hcl-deep-parens", HCL, "value", _deep("(", ")", 3000)),
    Snippet("hcl-deep-list", HCL, "value", _deep("[", "]", 3000)),
    Snippet("hcl-deep-object", HCL, "value", _deep("{a = ", "}", 2000)),
    Snippet("hcl-deep-calls", HCL, "value", _deep("abs(", ")", 2000)),
    Snippet("hcl-interpolation-unclosed", HCL, "value", '"${var.x"'),
    Snippet("hcl-directive-unclosed", HCL, "value", '"%{ if true }x"'),
    Snippet("hcl-template-loop", HCL, "value", '"%{ for i in range(1000000) }${i}%{ endfor }"'),
    Snippet("hcl-heredoc-unclosed", HCL, "line", "x = <<EOT\nabc"),
    Snippet("hcl-regex-catastrophic", HCL, "value", 'regex("(a+)+$", "' + "a" * 40 + '!")'),
    Snippet("hcl-regex-invalid", HCL, "value", 'regex("(?P<", "x")'),
    Snippet("hcl-replace-regex", HCL, "value", 'replace("' + "a" * 40 + '!", "/(a|a)*$/", "b")'),
    Snippet("hcl-format-width", HCL, "value", 'format("%999999999d", 1)'),
    Snippet("hcl-format-odd", HCL, "value", 'format("%[99]s %*d %", 1)'),
    Snippet("hcl-pow", HCL, "value", "pow(10, 1e6)"),
    Snippet("hcl-multiply", HCL, "value", "1e308 * 1e308"),
    Snippet("hcl-divide-zero", HCL, "value", "1 / 0"),
    Snippet("hcl-modulo-zero", HCL, "value", "5 % 0"),
    Snippet("hcl-tonumber", HCL, "value", 'tonumber("1e999")'),
    Snippet("hcl-parseint", HCL, "value", 'parseint("' + "z" * 3000 + '", 36)'),
    Snippet("hcl-substr", HCL, "value", 'substr("abc", -5, 1e18)'),
    Snippet("hcl-cidrsubnet", HCL, "value", 'cidrsubnet("10.0.0.0/8", 200, 1e18)'),
    Snippet("hcl-cidrhost", HCL, "value", 'cidrhost("::/0", 1e40)'),
    Snippet("hcl-strrepeat", HCL, "value", 'join("", [for i in range(100000000) : "x"])'),
    Snippet("hcl-formatlist", HCL, "value", 'formatlist("%s", range(10000000))'),
    Snippet("hcl-setproduct", HCL, "value", "setproduct(range(1000), range(1000), range(1000))"),
    Snippet("hcl-flatten-deep", HCL, "value", "flatten(" + _deep("[", "]", 2000) + ")"),
    Snippet("hcl-jsondecode", HCL, "value", "jsondecode(\"" + "[" * 5000 + "\")"),
    Snippet("hcl-jsondecode-num", HCL, "value", 'jsondecode("1e999")'),
    Snippet("hcl-yamldecode", HCL, "value", 'yamldecode("&a [*a, *a]")'),
    Snippet("hcl-yamldecode-tag", HCL, "value", 'yamldecode("!!python/object/apply:os.system [true]")'),
    Snippet("hcl-file", HCL, "value", 'file("/etc/passwd")'),
    Snippet("hcl-splat", HCL, "value", "var.x[*][*][*].a[*]"),
    Snippet("hcl-conditional-null", HCL, "value", "null ? null : null"),
    Snippet("hcl-self-local", ("hcl",), "line", "locals {\n  a = local.b\n  b = local.a\n}"),
    Snippet("hcl-self-resource", ("hcl",), "line",
            'resource "aws_s3_bucket" "loop" {\n  bucket = aws_s3_bucket.loop.id\n}'),
    Snippet("hcl-variable-validation", ("hcl",), "line",
            'variable "v" {\n  default = 1e999\n  validation {\n    condition = var.v > 0\n  }\n}'),
    Snippet("hcl-module-self", ("hcl",), "line", 'module "m" {\n  source = "./"\n}'),
    Snippet("hcl-module-parent", ("hcl",), "line", 'module "m" {\n  source = "../../../../.."\n}'),
    Snippet("hcl-dynamic", ("hcl",), "line",
            'dynamic "x" {\n  for_each = range(1e9)\n  content {\n    a = x.value\n  }\n}'),
    Snippet("hcl-long-string", HCL, "value", '"' + LONG + '"'),
    Snippet("hcl-long-identifier", HCL, "line", "a" * 100_000 + " = 1"),
    Snippet("hcl-null-byte", HCL, "value", '"\0"'),
    Snippet("hcl-bad-escape", HCL, "value", '"\\uD800\\U0011FFFF"'),
    Snippet("hcl-unicode-ident", HCL, "line", "\u0430\u0301 = 1"),
    Snippet("hcl-block-unclosed", ("hcl",), "line", 'resource "a" "b" {'),
    # JSON (.tf.json, .tfvars.json)
    Snippet("json-deep-array", ("json",), "value", _deep("[", "]", 5000)),
    Snippet("json-deep-object", ("json",), "value", _deep('{"a": ', "}", 5000)),
    Snippet("json-huge-int", ("json",), "value", HUGE_INT),
    Snippet("json-huge-float", ("json",), "value", "1e999"),
    Snippet("json-nan", ("json",), "value", "NaN"),
    Snippet("json-interpolation-unclosed", ("json",), "value", '"${var.x"'),
    Snippet("json-interpolation-deep", ("json",), "value", '"${' + _deep("(", ")", 3000) + '}"'),
    Snippet("json-count-huge", ("json",), "value", '{"count": 1e18}'),
    Snippet("json-long-string", ("json",), "value", '"' + LONG + '"'),
    Snippet("json-lone-surrogate", ("json",), "value", '"\\ud800"'),
]

BY_NAME = {s.name: s for s in SNIPPETS}


def for_language(language: str, exclude: frozenset[str] = frozenset()) -> list[Snippet]:
    return [s for s in SNIPPETS if language in s.languages and s.name not in exclude]
