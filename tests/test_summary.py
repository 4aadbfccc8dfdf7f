"""The job summary (`--format summary`): tables by severity and criterion, top findings with
links, escaping, exemption changes of a pull request, and GitHub's 1 MiB limit."""

from __future__ import annotations

import re

import pytest
from helpers import BUCKET_TF, commit, git, git_init, run_cli, write

import soc2lint.report.summary as summary_module

RDS = "aws-rds-storage-encrypted"

PIPE_RULE = """\
id: x-pipe
title: A rule whose message holds markdown
severity: medium
soc2: {primary: [CC8.1]}
tags: [x-custom]
precision: high
target: {framework: terraform, kind: resource, type: aws_db_instance}
assert: {path: engine, equals: mysql}
message: "Engine | of '{name}' is <b>not</b> mysql"
"""


def summary(cwd, *args: str, env: dict | None = None) -> str:
    result = run_cli(["scan", *args, "-f", "summary"], cwd)
    assert result.exit_code in (0, 1, 3), result.output
    return result.stdout


def test_tables_and_top_findings_with_links(tmp_path):
    write(tmp_path, {"infra/my db#1.tf": BUCKET_TF})
    text = summary(tmp_path, ".", "--rule", RDS, "--link-base", "https://github.com/acme/infra/blob/abc")
    assert text.startswith("## soc2lint: 1 failing check\n")
    assert "| high | 1 |" in text and "| critical | 0 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| CC6.1 |"))
    assert row.endswith("| 1 | 0 | 1 | 0 |")  # one failure, one undecided (var with no value)
    assert ("| high | `aws-rds-storage-encrypted` | [infra/my db#1.tf:4]"
            "(https://github.com/acme/infra/blob/abc/infra/my%20db%231.tf#L4) |") in text


def test_without_a_link_base_locations_are_code(tmp_path):
    write(tmp_path, {"main.tf": BUCKET_TF})
    text = summary(tmp_path, ".", "--rule", RDS)
    assert "| `main.tf:4` |" in text and "](http" not in text


def test_markdown_in_messages_is_escaped(tmp_path):
    write(tmp_path, {"main.tf": BUCKET_TF, "rules/x-pipe.yaml": PIPE_RULE})
    text = summary(tmp_path, "main.tf", "--rules-dir", "rules", "--rule", "x-pipe")
    assert "Engine \\| of 'aws_db_instance.orders' is &lt;b&gt;not&lt;/b&gt; mysql" in text
    assert "<b>" not in text


def test_clean_scan(tmp_path):
    write(tmp_path, {"main.tf": 'resource "aws_db_instance" "ok" {\n  storage_encrypted = true\n}\n'})
    text = summary(tmp_path, ".", "--rule", RDS)
    assert text.startswith("## soc2lint: no failing checks\n")
    assert "### Top findings" not in text and "Changes that could exempt code" not in text


def test_left_out_findings_and_annotations_are_counted(tmp_path):
    many = "".join(f'resource "aws_db_instance" "db{i:02}" {{\n  storage_encrypted = false\n}}\n'
                   for i in range(45))
    write(tmp_path, {"main.tf": many})
    text = summary(tmp_path, ".", "--rule", RDS)
    rows = [line for line in text.splitlines() if line.startswith("| high | `")]
    assert len(rows) == summary_module.TOP_FINDINGS
    assert "... and 15 more: code scanning and `soc2lint scan` list them all." in text
    assert ("35 finding(s) were not annotated: GitHub shows at most 10 errors, 10 warnings and "
            "10 notices per step.") in text


def test_unreadable_files_are_listed(tmp_path):
    write(tmp_path, {"bad.tf": 'resource "x" {\n', "main.tf": BUCKET_TF})
    text = summary(tmp_path, ".", "--rule", RDS)
    assert "**1 input error(s)**: the scan is incomplete" in text
    assert re.search(r"### Input errors\n\n- `bad\.tf`", text)


def test_stays_under_githubs_limit(tmp_path, monkeypatch):
    many = "".join(f'resource "aws_db_instance" "db{i:02}" {{\n  storage_encrypted = false\n}}\n'
                   for i in range(40))
    write(tmp_path, {"main.tf": many})
    monkeypatch.setattr(summary_module, "MAX_BYTES", 4000)
    text = summary(tmp_path, ".", "--rule", RDS)
    assert len(text.encode("utf-8")) <= 4000
    shown = len([line for line in text.splitlines() if line.startswith("| high | `")])
    assert 0 < shown < 30 and f"... and {40 - shown} more" in text
    monkeypatch.setattr(summary_module, "MAX_BYTES", 300)
    text = summary(tmp_path, ".", "--rule", RDS)
    assert len(text.encode("utf-8")) <= 300
    assert text.endswith("_The summary was cut here: GitHub accepts at most 1 MiB per step._\n")


@pytest.fixture
def changed(tmp_path):
    write(tmp_path, {"db.tf": f"# soc2lint:ignore {RDS} -- replica of public data\n" + BUCKET_TF})
    git_init(tmp_path)
    git(tmp_path, "checkout", "-q", "-b", "main")
    commit(tmp_path, "base")
    return tmp_path


def test_pull_request_summary_lists_exemption_changes(changed):
    write(changed, {"db.tf": BUCKET_TF, "ebs.tf": "# soc2lint:ignore aws-ebs-volume-encrypted\n"
                    'resource "aws_ebs_volume" "v" {\n  encrypted = false\n}\n'})
    text = summary(changed, ".", "--rule", RDS, "--diff-base", "main", "--link-base", "https://x/blob/c")
    assert "> Pull request view: findings in changed files since main \\(" in text
    assert "| inline ignore added | [ebs.tf:1](https://x/blob/c/ebs.tf#L1) | soc2lint:ignore " \
           "aws-ebs-volume-encrypted \\(no justification: it does not apply\\) |" in text
    assert (f"| inline ignore removed | `db.tf:1` (base) | soc2lint:ignore {RDS} -- replica of "
            "public data |") in text


def test_pull_request_without_exemption_changes_says_so(changed):
    write(changed, {"more.tf": BUCKET_TF})
    text = summary(changed, ".", "--rule", RDS, "--diff-base", "main")
    assert "This change adds or removes no ignore" in text


def test_configuration_diff_is_fenced(changed):
    write(changed, {".soc2lint.yaml": "fail_on: critical\n"})
    text = summary(changed, ".", "--rule", RDS, "--diff-base", "main", "--no-config")
    assert "**configuration added**: `.soc2lint.yaml`: configuration added" in text
    assert "```diff\n--- .soc2lint.yaml (base " in text and '+fail_on: "critical"\n```' in text


def test_brackets_in_linked_paths_and_many_exemption_changes(changed, monkeypatch):
    monkeypatch.setattr(summary_module, "MAX_EXEMPTION_ROWS", 2)
    write(changed, {f"[x]/e{i}.tf": "# soc2lint:ignore aws-ebs-volume-encrypted -- scratch\n"
                    'resource "aws_ebs_volume" "v" {\n  encrypted = false\n}\n' for i in range(3)})
    text = summary(changed, ".", "--rule", RDS, "--diff-base", "main", "--link-base", "https://x/b")
    assert "[\\[x\\]/e0.tf:1](https://x/b/%5Bx%5D/e0.tf#L1)" in text
    assert "| ... | 1 more | `soc2lint scan --diff-base` lists them all |" in text
