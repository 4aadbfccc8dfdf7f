"""Hostile input the parsers must refuse with a notification, in bounded time and memory."""

from __future__ import annotations

import pytest
from hostile import scan_hostile

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
BIG = "9" * 5000  # past Python's 4,300-digit limit on converting integers


def _refused(scan, name: str, line: int | None, words: str) -> None:
    errors = scan.errors(name)
    assert errors, scan.report["notifications"]
    assert errors[0]["line"] == line, errors
    assert words in errors[0]["message"], errors
    assert scan.planted_reported
    assert scan.code == 1  # the planted failure outranks the input error


@pytest.mark.parametrize(("value", "words"), [
    ("2001-13-45", "'2001-13-45' as !!timestamp"),
    ("!!int abc", "'abc' as !!int"),
    ("!!bool maybe", "'maybe' as !!bool"),
    ("!!float x", "'x' as !!float"),
    ("!!set [a]", "a sequence as !!set"),
    ("!!map [a]", "a sequence as !!map"),
    ("!!timestamp x", "'x' as !!timestamp"),
    ("!!seq {a: 1}", "a mapping as !!seq"),
    (BIG, "(5,000 characters)' as !!int"),
])
def test_yaml_values_the_constructors_refuse(tmp_path, value, words):
    scan = scan_hostile(tmp_path, {"pod.yaml": f"{POD}  labels:\n    d: {value}\n"})
    _refused(scan, "pod.yaml", 6, words)


@pytest.mark.parametrize("text", ["&a [*a]\n", "a: &m\n  <<: *m\n"])
def test_yaml_alias_inside_its_own_anchor(tmp_path, text):
    scan = scan_hostile(tmp_path, {"loop.yaml": text})
    _refused(scan, "loop.yaml", 1, "holds an alias inside the node it names")


def test_tfvars_nested_too_deep(tmp_path):
    deep = "x = " + "[" * 10_000 + "]" * 10_000 + "\n"
    scan = scan_hostile(tmp_path, {"terraform.tfvars": deep})
    _refused(scan, "terraform.tfvars", 1, "too deeply nested")


@pytest.mark.parametrize(("name", "text", "line"), [
    ("big.tf", f'resource "aws_sqs_queue" "q" {{\n  delay_seconds = {BIG}\n}}\n', 2),
    ("terraform.tfvars", f"\nx = {BIG}\n", 2),
    ("big.tf.json", f'{{"resource": {{"aws_sqs_queue": {{"q": {{\n"delay_seconds": {BIG}}}}}}}}}\n', 2),
])
def test_terraform_integers_longer_than_python_reads(tmp_path, name, text, line):
    scan = scan_hostile(tmp_path, {name: text})
    _refused(scan, name, line, "a number of 5,000 digits is more than Python reads")


@pytest.mark.parametrize(("name", "text", "line"), [
    ("escape.tf", 'resource "aws_sqs_queue" "q" {\n  name = "q\\U0011FFFF"\n}\n', 2),
    ("terraform.tfvars", 'x = "\\uD800\\U0011FFFF"\n', 1),
])
def test_terraform_escapes_past_the_last_code_point(tmp_path, name, text, line):
    scan = scan_hostile(tmp_path, {name: text})
    _refused(scan, name, line, "invalid escape sequence")


def test_tf_json_is_read_as_json_not_yaml(tmp_path):
    text = '{"resource": {"aws_sqs_queue": {"q": {\n  "name": 2001-13-45}}}}\n'
    scan = scan_hostile(tmp_path, {"q.tf.json": text})
    _refused(scan, "q.tf.json", 2, "invalid JSON")


def test_tf_json_keeps_lines_for_findings(tmp_path):
    text = ('{\n  "resource": {\n    "aws_ebs_volume": {\n      "json": {\n'
            '        "size": 10,\n        "encrypted": false\n      }\n    }\n  }\n}\n')
    scan = scan_hostile(tmp_path, {"v.tf.json": text})
    found = [r for r in scan.report["results"] if r["file"] == "v.tf.json"
             and r["rule_id"] == "aws-ebs-volume-encrypted"]
    assert found and found[0]["outcome"] == "fail" and found[0]["line"] in (4, 6), found
    assert scan.planted_reported and scan.code == 1


def test_hcl_line_too_long(tmp_path):
    text = 'resource "aws_sqs_queue" "q" {\n  name = "' + "x" * 1_100_000 + '"\n}\n'
    scan = scan_hostile(tmp_path, {"long.tf": text})
    _refused(scan, "long.tf", 2, "a line of 1,100,011 characters is longer than")


def test_hcl_too_many_blocks(tmp_path):
    text = "".join(f'resource "aws_sqs_queue" "q{i}" {{\n  name = "q{i}"\n}}\n' for i in range(10_001))
    scan = scan_hostile(tmp_path, {"many/main.tf": text})
    _refused(scan, "many/main.tf", 30_001, "more than 10,000 blocks in one file")


@pytest.mark.parametrize("expression", ["${{" * 350_000, "${{ a" + " " * 1_000_000 + "}}"])
def test_workflow_expressions_are_read_in_linear_time(tmp_path, expression):
    workflow = ("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                f"      - run: |\n          {expression}\n")
    scan = scan_hostile(tmp_path, {".github/workflows/ci.yml": workflow})
    assert scan.errors() == []
    assert ".github/workflows/ci.yml" in scan.report["files"]
    assert scan.planted_reported
    assert scan.code == 1
