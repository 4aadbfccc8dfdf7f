"""`--format github`: workflow-command annotations, their escaping, order and GitHub's limits."""

from __future__ import annotations

import json
import re
import sys

import pytest
from helpers import BUCKET_TF, CLEAN_TF, run_cli, write

from soc2lint.model import (
    Criteria,
    Entity,
    Finding,
    Notification,
    Outcome,
    Rule,
    ScanResult,
    Severity,
    Span,
    Target,
)
from soc2lint.report.github import (
    ANNOTATION_LIMITS,
    command,
    escape_data,
    escape_property,
    plan_annotations,
    render_github,
)


def user_rule(rule_id: str, severity: str, message: str = "Database '{name}' is not encrypted") -> str:
    return f"""\
id: {rule_id}
title: Databases are encrypted ({severity})
severity: {severity}
soc2: {{primary: [CC6.1]}}
tags: [x-custom]
precision: high
target: {{framework: terraform, kind: resource, type: aws_db_instance}}
assert: {{path: storage_encrypted, equals: true, default: false}}
report_at: storage_encrypted
message: {json.dumps(message)}
"""


RULES = {f"rules/x-{s}.yaml": user_rule(f"x-{s}", s) for s in ("high", "medium", "low")}


def databases(count: int, prefix: str = "db") -> str:
    return "".join(f'resource "aws_db_instance" "{prefix}{i:02}" {{\n  storage_encrypted = false\n}}\n\n'
                   for i in range(count))


def scan(tmp_path, *args: str):
    return run_cli(["scan", ".", "--no-config", "--rules-dir", "rules", "--tags", "x-custom",
                    "--format", "github", *args], tmp_path)


def commands(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("::")]


def levels(stdout: str) -> list[str]:
    return [re.match(r"::(\w+)", line).group(1) for line in commands(stdout)]


# escaping, exactly as @actions/core escapeData / escapeProperty

@pytest.mark.parametrize(("raw", "escaped"), [
    ("100%", "100%25"), ("a\rb", "a%0Db"), ("a\nb", "a%0Ab"), ("\r\n", "%0D%0A"),
    ("%0A", "%250A"),  # `%` first: an already-encoded sequence stays literal
    ("a: b, c", "a: b, c"), ("::error::x", "::error::x"),
])
def test_escape_data(raw, escaped):
    assert escape_data(raw) == escaped


@pytest.mark.parametrize(("raw", "escaped"), [
    ("a:b", "a%3Ab"), ("a,b", "a%2Cb"), ("100%", "100%25"), ("a\rb", "a%0Db"), ("a\nb", "a%0Ab"),
    ("%3A:", "%253A%3A"), ("x,line=9::y", "x%2Cline=9%3A%3Ay"),
])
def test_escape_property(raw, escaped):
    assert escape_property(raw) == escaped


def test_command_leaves_out_empty_properties():
    assert command("error", {"file": "a,b.tf", "line": None, "title": "t:1"}, "m\n") == \
        "::error file=a%2Cb.tf,title=t%3A1::m%0A"
    assert command("notice", {}, "hello") == "::notice::hello"


# real scans

def test_scan_output_exact_and_parse_errors_first(tmp_path):
    write(tmp_path, {"main.tf": BUCKET_TF, "a_broken.tf": 'resource "x" {\n'})
    result = run_cli(["scan", ".", "--no-config", "--rule", "aws-rds-storage-encrypted",
                      "--rule", "aws-rds-multi-az", "--format", "github"], tmp_path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=a_broken.tf,line=1,title=soc2lint could not read this file::invalid HCL syntax",
        "::error file=main.tf,line=4,endLine=4,col=3,endColumn=27,title=aws-rds-storage-encrypted (high)"
        "::Database 'aws_db_instance.orders' stores its data unencrypted. Set storage_encrypted = true; "
        "encryption can only be chosen when the instance or cluster is created, so an existing database "
        "has to be migrated through an encrypted snapshot.%0ASOC 2: CC6.1",
        "::warning file=main.tf,line=1,endLine=5,title=aws-rds-multi-az (medium)::RDS instance "
        "'aws_db_instance.orders' runs in a single Availability Zone. Set multi_az = true so a standby in "
        "another zone takes over when the primary or its zone fails.%0ASOC 2: A1.2",
        "::warning file=main.tf,line=7,endLine=10,title=aws-rds-multi-az (medium)::RDS instance "
        "'aws_db_instance.billing' runs in a single Availability Zone. Set multi_az = true so a standby in "
        "another zone takes over when the primary or its zone fails.%0ASOC 2: A1.2",
    ]
    assert result.stdout.endswith("\n")
    # the unknown (billing's storage_encrypted = var.encrypt_billing) is not annotated
    assert "aws-rds-storage-encrypted" not in "".join(line for line in commands(result.stdout)
                                                      if "billing" in line)


def test_order_is_most_severe_first(tmp_path):
    write(tmp_path, {**RULES, "b.tf": databases(2, "b"), "a.tf": databases(1, "a")})
    result = scan(tmp_path)
    assert result.exit_code == 1
    assert levels(result.stdout) == ["error"] * 3 + ["warning"] * 3 + ["notice"] * 3
    errors = commands(result.stdout)[:3]
    assert [re.search(r"file=([^,]+),line=(\d+)", e).groups() for e in errors] == [
        ("a.tf", "2"), ("b.tf", "2"), ("b.tf", "6")]


def test_paths_with_comma_colon_and_newline_are_escaped(tmp_path):
    if sys.platform == "win32":
        pytest.skip("':' and newlines cannot appear in Windows file names")
    write(tmp_path, {**RULES, "we,ird:name%.tf": databases(1), "new\nline.tf": databases(1)})
    result = scan(tmp_path, "--rule", "x-high")
    files = [re.search(r"file=([^,]*),", line).group(1) for line in commands(result.stdout)]
    assert sorted(files) == ["new%0Aline.tf", "we%2Cird%3Aname%25.tf"]
    assert len(result.stdout.splitlines()) == 2  # the newline did not start a new command


def test_message_and_title_escaping_from_a_user_rule(tmp_path):
    rule = user_rule("x-pct", "low", "Database '{name}' is 100% open: fix a, b")
    write(tmp_path, {"rules/x-pct.yaml": rule, "main.tf": databases(1)})
    result = scan(tmp_path)
    assert result.stdout == ("::notice file=main.tf,line=2,endLine=2,col=3,endColumn=27,title=x-pct (low)"
                             "::Database 'aws_db_instance.db00' is 100%25 open: fix a, b%0ASOC 2: CC6.1\n")


def test_suppressed_and_unknown_are_not_annotated(tmp_path):
    write(tmp_path, {**RULES, "main.tf": (
        '# soc2lint:ignore x-high -- test data only\n'
        'resource "aws_db_instance" "ignored" {\n  storage_encrypted = false\n}\n\n'
        'resource "aws_db_instance" "unknown" {\n  storage_encrypted = var.x\n}\n\n'
        'resource "aws_db_instance" "counted" {\n  storage_encrypted = false\n}\n')})
    result = scan(tmp_path, "--rule", "x-high")
    assert result.exit_code == 1
    assert [re.search(r"'(aws_db_instance\.\w+)'", line).group(1)
            for line in commands(result.stdout)] == ["aws_db_instance.counted"]


def test_clean_scan_prints_nothing(tmp_path):
    write(tmp_path, {"main.tf": CLEAN_TF})
    result = run_cli(["scan", "main.tf", "--no-config", "--rule", "aws-rds-storage-encrypted",
                      "--format", "github"], tmp_path)
    assert (result.exit_code, result.stdout) == (0, "")


# GitHub's limits

def test_errors_capped_at_ten_exit_code_counts_all(tmp_path):
    write(tmp_path, {**RULES, "main.tf": databases(25)})
    result = scan(tmp_path, "--rule", "x-high", "--format", "sarif=out.sarif")
    assert result.exit_code == 1
    assert levels(result.stdout) == ["error"] * 10
    assert result.stdout.splitlines()[-1] == (
        "soc2lint: 15 more findings were not annotated (GitHub shows at most 10 errors, 10 warnings and "
        "10 notices per step); the text and SARIF outputs list them all.")
    assert len(result.stdout.splitlines()) == 11
    # the other format in the same run still has every failure
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert len(sarif["runs"][0]["results"]) == 25


def test_capping_never_changes_the_exit_code(tmp_path):
    write(tmp_path, {**RULES, "main.tf": databases(12)})
    # ten lows are annotated, but --fail-on low still fails on all twelve and --fail-on high on none
    assert scan(tmp_path, "--rule", "x-low").exit_code == 1
    assert scan(tmp_path, "--rule", "x-low", "--fail-on", "high").exit_code == 0


def test_each_level_capped_separately(tmp_path):
    write(tmp_path, {**RULES, "main.tf": databases(12)})
    result = scan(tmp_path)
    assert levels(result.stdout) == ["error"] * 10 + ["warning"] * 10 + ["notice"] * 10
    assert result.stdout.splitlines()[-1].startswith("soc2lint: 6 more findings were not annotated")


def test_single_omission_is_singular(tmp_path):
    write(tmp_path, {**RULES, "main.tf": databases(11)})
    result = scan(tmp_path, "--rule", "x-medium")
    assert levels(result.stdout) == ["warning"] * 10
    assert result.stdout.splitlines()[-1].startswith("soc2lint: 1 more finding was not annotated ")


def test_unreadable_files_take_error_slots_first(tmp_path):
    write(tmp_path, {**RULES, "main.tf": databases(12), "zz_broken.tf": "resource {\n"})
    result = scan(tmp_path, "--rule", "x-high")
    lines = commands(result.stdout)
    assert lines[0].startswith("::error file=zz_broken.tf,line=1,title=soc2lint could not read this file::")
    assert len(lines) == 10
    assert result.stdout.splitlines()[-1].startswith("soc2lint: 3 more findings")


# the plan, on results built by hand

def finding(severity: str, path: str = "main.tf", line: int = 1, rule_id: str = "") -> Finding:
    rule = Rule(id=rule_id or f"x-{severity}", title="t", severity=Severity(severity),
                soc2=Criteria(("CC6.1",)), tags=(), precision="high",
                target=Target("terraform", "resource"), condition={}, message="m", source="x.yaml")
    entity = Entity("terraform", "resource", "aws_db_instance", f"aws_db_instance.l{line}", path,
                    Span(line), {})
    return Finding(rule, entity, Outcome.FAIL, f"failure at {path}:{line}", Span(line))


def result_of(findings=(), notifications=()) -> ScanResult:
    return ScanResult(rules=(), findings=tuple(findings), notifications=tuple(notifications), files=())


def test_plan_orders_and_caps():
    severities = ["low", "critical", "medium", "high"] * 12
    found = [finding(s, f"f{i % 5}.tf", i) for i, s in enumerate(severities)]
    broken = [Notification("b.tf", "invalid HCL syntax", line=3), Notification("a.tf", "unreadable"),
              Notification("c.tf", "only a warning", "warning")]
    plan = plan_annotations(result_of(found, broken))
    assert [n.path for n in plan.errors] == ["a.tf", "b.tf"]
    ranks = [f.rule.severity.rank for f in plan.annotated]
    assert ranks == sorted(ranks, reverse=True)
    assert [f.rule.severity.value for f in plan.annotated] == \
        ["critical"] * 8 + ["medium"] * 10 + ["low"] * 10  # 2 error slots went to unreadable files
    keys = [(f.path, f.span.line) for f in plan.annotated[:8]]
    assert keys == sorted(keys)
    assert plan.omitted == 48 - 28
    assert render_github(result_of(found, broken)).count("\n::") == 29  # 30 commands


def test_plan_omits_error_notifications_beyond_the_cap():
    broken = [Notification(f"{i:02}.tf", "unreadable") for i in range(12)]
    plan = plan_annotations(result_of([finding("high"), finding("low")], broken))
    assert len(plan.errors) == ANNOTATION_LIMITS["error"]
    assert [f.rule.severity.value for f in plan.annotated] == ["low"]
    assert plan.omitted == 3


def test_suppressed_and_unknown_findings_are_not_planned():
    import dataclasses

    from soc2lint.model import Suppression

    kept = finding("high", line=1)
    unknown = dataclasses.replace(finding("high", line=2), outcome=Outcome.UNKNOWN)
    ignored = dataclasses.replace(finding("high", line=3),
                                  suppression=Suppression("inline", "test data", "main.tf", 2))
    plan = plan_annotations(result_of([kept, unknown, ignored]))
    assert plan.annotated == (kept,) and plan.omitted == 0
    assert render_github(result_of()) == ""
