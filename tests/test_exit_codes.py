"""Exit codes (DESIGN section 9): 1 when an unsuppressed failure is at or above --fail-on, else 3
when some input could not be read, else 0; computed once, before any output is capped."""

from __future__ import annotations

import pytest
from helpers import run_cli, write

ORDER = ("low", "medium", "high", "critical")
DB = 'resource "aws_db_instance" "orders" {\n  engine = "postgres"\n}\n'


def rule(severity: str) -> str:
    return f"""\
id: x-{severity}
title: A {severity} check that every database fails
severity: {severity}
soc2: {{primary: [CC6.1]}}
tags: [x-custom]
precision: high
target: {{framework: terraform, kind: resource, type: aws_db_instance}}
assert: {{path: engine, equals: never}}
message: "Database '{{name}}' fails the {severity} check"
"""


@pytest.fixture
def project(tmp_path):
    write(tmp_path, {"db.tf": DB, **{f"rules/x-{s}.yaml": rule(s) for s in ORDER}})
    return tmp_path


@pytest.mark.parametrize("severity", ORDER)
@pytest.mark.parametrize("fail_on", [*ORDER, "none"])
def test_each_severity_against_each_threshold(project, severity, fail_on):
    result = run_cli(["scan", "db.tf", "--rules-dir", "rules", "--rule", f"x-{severity}",
                      "--fail-on", fail_on], project)
    expected = 1 if fail_on != "none" and ORDER.index(severity) >= ORDER.index(fail_on) else 0
    assert result.exit_code == expected, result.output


def test_exit_3_when_input_is_unreadable_and_nothing_counts(project):
    write(project, {"broken.tf": 'resource "aws_db_instance" {\n'})
    base = ["scan", ".", "--rules-dir", "rules", "--rule", "x-low"]
    assert run_cli([*base, "--fail-on", "low"], project).exit_code == 1  # a failure wins over 3
    assert run_cli([*base, "--fail-on", "medium"], project).exit_code == 3
    assert run_cli([*base, "--fail-on", "none"], project).exit_code == 3
    write(project, {"bin.yaml": "\x00\x01"})
    (project / "broken.tf").unlink()
    assert run_cli([*base, "--fail-on", "medium"], project).exit_code == 3


def test_suppressed_failures_do_not_count(project):
    write(project, {"db.tf": "# soc2lint:ignore x-critical -- accepted by the board\n" + DB})
    args = ["scan", "db.tf", "--rules-dir", "rules", "--rule", "x-critical"]
    assert run_cli(args, project).exit_code == 0
    assert run_cli([*args, "--no-inline-ignores"], project).exit_code == 1


def test_configured_fail_on_applies_unless_the_command_line_says_otherwise(project):
    write(project, {".soc2lint.yaml": "fail_on: critical\n"})
    args = ["scan", "db.tf", "--rules-dir", "rules", "--rule", "x-high"]
    assert run_cli(args, project).exit_code == 0
    assert run_cli([*args, "--fail-on", "high"], project).exit_code == 1


def test_computed_before_outputs_are_capped(project, monkeypatch):
    import soc2lint.report.github as github
    import soc2lint.report.sarif as sarif

    many = "".join(f'resource "aws_db_instance" "db{i}" {{\n  engine = "postgres"\n}}\n'
                   for i in range(5))
    write(project, {"db.tf": many})
    monkeypatch.setattr(sarif, "MAX_RESULTS", 1)
    monkeypatch.setattr(github, "ANNOTATION_LIMITS", {"error": 0, "warning": 0, "notice": 1})
    result = run_cli(["scan", "db.tf", "--rules-dir", "rules", "--rule", "x-medium,x-low",
                      "--fail-on", "medium", "-f", "github", "-f", f"sarif={project / 'o.sarif'}"],
                     project)
    # the only annotation is a low finding, and SARIF keeps one result: medium failures still count
    assert result.stdout.count("::notice ") == 1 and "::warning" not in result.stdout
    assert result.exit_code == 1
