"""Structured generators: well-formed files full of odd values, for each language."""

from __future__ import annotations

import json
import random

from .case import Case
from .snippets import for_language

HCL_VALUES = ["true", "false", "null", "0", "-1", "1.5", '"x"', '""', "[]", "{}", "var.v", "local.l",
              "var.m.a", "var.l[0]", "aws_s3_bucket.b.id", "aws_s3_bucket.b[*].arn", "count.index",
              "each.key", "each.value", "path.module", "terraform.workspace", 'lookup(var.m, "a", 1)',
              "length(var.l)", 'jsonencode({a = [1, var.v]})', "try(var.m.z, 2)",
              'format("%s-%d", var.v, 3)', "var.v == null ? 1 : 2", '"${var.v}-${local.l}"',
              "[for k, v in var.m : v if k != \"\"]", "{for i in var.l : tostring(i) => i...}",
              "merge(var.m, {b = 2})", "tolist(toset(var.l))", "coalesce(null, var.v)"]
ATTRIBUTES = ["encrypted", "storage_encrypted", "bucket", "acl", "policy", "count", "for_each",
              "cidr_blocks", "from_port", "kms_key_id", "tags", "password", "enabled", "name"]
TYPES = ["aws_s3_bucket", "aws_db_instance", "aws_security_group", "aws_ebs_volume",
         "aws_iam_policy", "google_storage_bucket", "azurerm_storage_account", "aws_kms_key"]
YAML_VALUES = ["true", "no", "~", "0", "0x1F", "1_000", "'x'", '"y"', "[]", "{}", "[a, {b: c}]",
               "${{ github.event.pull_request.title }}", "${{ secrets.TOKEN }}", "${{ matrix.x }}",
               "${{ inputs.a || 'b' }}", "|\n    echo ${{ github.head_ref }}", ">-\n    a"]


def _hcl_value(rng: random.Random, exclude: frozenset[str], language: str) -> str:
    if rng.random() < 0.25:
        values = [s.text for s in for_language(language, exclude) if s.form == "value"]
        return rng.choice(values or ["1"])
    return rng.choice(HCL_VALUES)


def terraform(rng: random.Random, exclude: frozenset[str]) -> Case:
    """A module with variables, locals and resources; sometimes a tfvars file targeted."""
    blocks = ['variable "v" {{\n  default = {}\n}}'.format(_hcl_value(rng, exclude, "hcl")),
              'variable "m" {\n  default = {a = 1}\n}', 'variable "l" {\n  default = [1, 2]\n}',
              "locals {{\n  l = {}\n}}".format(_hcl_value(rng, exclude, "hcl"))]
    for i in range(rng.randint(1, 4)):
        body = "\n".join(f"  {rng.choice(ATTRIBUTES)} = {_hcl_value(rng, exclude, 'hcl')}"
                         for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.3:
            body += f"\n  nested {{\n    {rng.choice(ATTRIBUTES)} = {_hcl_value(rng, exclude, 'hcl')}\n  }}"
        blocks.append(f'resource "{rng.choice(TYPES)}" "{"b" if i == 0 else f"r{i}"}" {{\n{body}\n}}')
    files = {"main.tf": "\n\n".join(blocks).encode()}
    if rng.random() < 0.3:
        files["terraform.tfvars"] = "\n".join(
            f"{name} = {_hcl_value(rng, exclude, 'tfvars')}" for name in ("v", "m", "l")).encode()
        return Case(files, "terraform.tfvars", ("generate tfvars",))
    return Case(files, "main.tf", ("generate terraform",))


def _json_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([True, None, 0, -1, 1.5, 10**30, "x", "${var.v}", "${", "${var.m[\"a\"]}",
                           "%{ if true }a%{ endif }", "${jsonencode(var.l)}", "${1/0}", ""])
    if roll < 0.7:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(ATTRIBUTES): _json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def terraform_json(rng: random.Random, exclude: frozenset[str]) -> Case:
    """A .tf.json module (or a .tfvars.json) with odd values."""
    doc = {"variable": {"v": {"default": _json_value(rng)}},
           "locals": {"l": _json_value(rng)},
           "resource": {rng.choice(TYPES): {"b": {rng.choice(ATTRIBUTES): _json_value(rng)
                                                  for _ in range(rng.randint(1, 4))}}}}
    if rng.random() < 0.2:
        doc["resource"] = [doc["resource"]]
    if rng.random() < 0.3:
        files = {"main.tf": b'variable "v" {}\n', "x.auto.tfvars.json": json.dumps(
            {"v": _json_value(rng)}).encode()}
        return Case(files, "x.auto.tfvars.json", ("generate tfvars.json",))
    return Case({"main.tf.json": json.dumps(doc, indent=1).encode()}, "main.tf.json",
                ("generate tf.json",))


USES = ["actions/checkout@v4", "a/b@" + "f" * 40, "./local", "docker://x", "o/r/.github/w.yml@main"]


def _yaml_value(rng: random.Random, exclude: frozenset[str], language: str) -> str:
    if rng.random() < 0.25:
        values = [s.text for s in for_language(language, exclude) if s.form == "value"]
        return rng.choice(values or ["x"])
    return rng.choice(YAML_VALUES)


def workflow(rng: random.Random, exclude: frozenset[str]) -> Case:
    """A GitHub Actions workflow with odd triggers, permissions, steps and expressions."""
    v = lambda: _yaml_value(rng, exclude, "workflow")  # noqa: E731
    steps = "\n".join(rng.choice([
        f"      - uses: {rng.choice([*USES, v()])}",
        f"      - run: {v()}",
        f"      - name: {v()}\n        env:\n          X: {v()}\n        run: echo $X",
        f"      - uses: actions/checkout@v4\n        with:\n          ref: {v()}",
        f"      - if: {v()}\n        run: x",
    ]) for _ in range(rng.randint(1, 4)))
    text = (f"name: {v()}\non:\n  {rng.choice(['push', 'pull_request_target', 'workflow_run', 'issues'])}:"
            f" {rng.choice(['', '{}', v()])}\npermissions: {rng.choice(['write-all', '{}', v()])}\n"
            f"jobs:\n  j:\n    runs-on: {v()}\n    permissions:\n      contents: {v()}\n"
            f"    steps:\n{steps}\n")
    return Case({".github/workflows/w.yml": text.encode()}, ".github/workflows/w.yml",
                ("generate workflow",))


def kubernetes(rng: random.Random, exclude: frozenset[str]) -> Case:
    """A Kubernetes manifest with odd security contexts, env and volumes."""
    v = lambda: _yaml_value(rng, exclude, "yaml")  # noqa: E731
    text = (f"apiVersion: {rng.choice(['v1', 'apps/v1', v()])}\n"
            f"kind: {rng.choice(['Pod', 'Deployment', 'CronJob', 'ServiceAccount', v()])}\n"
            f"metadata:\n  name: {v()}\n  namespace: {v()}\n"
            f"spec:\n  hostNetwork: {v()}\n  automountServiceAccountToken: {v()}\n"
            f"  template:\n    spec:\n      containers:\n        - name: c\n          image: {v()}\n"
            f"  containers:\n    - name: {v()}\n      image: {v()}\n"
            f"      securityContext:\n        privileged: {v()}\n        capabilities: {v()}\n"
            f"      env:\n        - name: PASSWORD\n          value: {v()}\n"
            f"  volumes:\n    - name: v\n      hostPath: {v()}\n")
    if rng.random() < 0.2:
        text += "---\n" + text
    return Case({"k8s/m.yaml": text.encode()}, "k8s/m.yaml", ("generate kubernetes",))


GENERATORS = [terraform, terraform_json, workflow, kubernetes]


def generate(rng: random.Random, exclude: frozenset[str] = frozenset()) -> Case:
    return rng.choice(GENERATORS)(rng, exclude)
