"""The command line contract: commands, options, several formats, exit codes 0/1/2/3."""

from __future__ import annotations

import json

from helpers import BUCKET_TF, CLEAN_TF, run_cli, write

LOW_ONLY_TF = '''\
resource "aws_db_instance" "ok" {
  engine                  = "postgres"
  storage_encrypted       = true
  backup_retention_period = 1
}
'''


def test_exit_codes_follow_fail_on(tmp_path):
    write(tmp_path, {"db.tf": BUCKET_TF})
    args = ["scan", "db.tf", "--criteria", "CC6.1", "--tags", "encryption-at-rest"]
    assert run_cli([*args, "--fail-on", "high"], tmp_path).exit_code == 1
    assert run_cli([*args, "--fail-on", "critical"], tmp_path).exit_code == 0
    assert run_cli([*args, "--fail-on", "none"], tmp_path).exit_code == 0


def test_exit_code_counts_only_failures_at_or_above_threshold(tmp_path, all_rules):
    write(tmp_path, {"db.tf": LOW_ONLY_TF})
    data = json.loads(run_cli(["scan", "db.tf", "-f", "json"], tmp_path).stdout)
    severities = {r["severity"] for r in data["results"] if r["outcome"] == "fail"}
    assert severities, "the example must fail some rule"
    lowest = min(severities, key=["low", "medium", "high", "critical"].index)
    highest = max(severities, key=["low", "medium", "high", "critical"].index)
    order = ["low", "medium", "high", "critical"]
    assert run_cli(["scan", "db.tf", "--fail-on", lowest], tmp_path).exit_code == 1
    above = order[order.index(highest) + 1:] if highest != "critical" else []
    for level in above:
        assert run_cli(["scan", "db.tf", "--fail-on", level], tmp_path).exit_code == 0


def test_unknown_never_fails_the_build(tmp_path):
    write(tmp_path, {"db.tf": 'variable "on" {}\n'
                               'resource "aws_db_instance" "x" {\n  storage_encrypted = var.on\n}\n'})
    result = run_cli(["scan", "db.tf", "--tags", "encryption-at-rest", "-f", "json",
                      "--criteria", "CC6.1"], tmp_path)
    data = json.loads(result.stdout)
    rds = [r for r in data["results"] if r["rule_id"] == "aws-rds-storage-encrypted"]
    assert rds[0]["outcome"] == "unknown" and rds[0]["unresolved"] == ["var.on has no value"]
    text = run_cli(["scan", "db.tf", "--tags", "encryption-at-rest"], tmp_path).stdout
    assert "depends on var.on" in text


def test_broken_file_plus_failures_exits_1_and_alone_exits_3(tmp_path):
    write(tmp_path, {"db.tf": BUCKET_TF, "bad.tf": "resource {{\n"})
    assert run_cli(["scan", "."], tmp_path).exit_code == 1
    assert run_cli(["scan", ".", "--fail-on", "none"], tmp_path).exit_code == 3
    write(tmp_path, {"db.tf": CLEAN_TF})
    assert run_cli(["scan", "bad.tf"], tmp_path).exit_code == 3


def test_several_formats_in_one_run(tmp_path):
    write(tmp_path, {"db.tf": BUCKET_TF})
    result = run_cli(["scan", "db.tf", "-f", "text", "-f", "sarif=out.sarif",
                      "--format", "json=out.json"], tmp_path)
    assert result.exit_code == 1
    assert "aws-rds-storage-encrypted" in result.stdout
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    data = json.loads((tmp_path / "out.json").read_text())
    fails = [r for r in data["results"] if r["outcome"] == "fail"]
    assert len(sarif["runs"][0]["results"]) == len(fails)


def test_format_with_output_file(tmp_path):
    write(tmp_path, {"db.tf": BUCKET_TF})
    result = run_cli(["scan", "db.tf", "--format", "sarif", "--output", "r.sarif"], tmp_path)
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"


def test_two_formats_to_stdout_is_a_usage_error(tmp_path):
    result = run_cli(["scan", ".", "-f", "text", "-f", "json"], tmp_path)
    assert result.exit_code == 2 and "standard output" in result.output
    assert run_cli(["scan", ".", "-f", "yaml"], tmp_path).exit_code == 2


def test_criteria_and_tags_select_rules(tmp_path):
    write(tmp_path, {"db.tf": BUCKET_TF})
    data = json.loads(run_cli(["scan", "db.tf", "-f", "json", "--criteria", "A1.2"],
                              tmp_path).stdout)
    assert data["rules"] and all("A1.2" in r["soc2"]["primary"] + r["soc2"]["secondary"]
                                 for r in data["rules"])
    data = json.loads(run_cli(["scan", "db.tf", "-f", "json", "--tags", "mfa,secrets"],
                              tmp_path).stdout)
    assert data["rules"] and all({"mfa", "secrets"} & set(r["tags"]) for r in data["rules"])


def test_rules_json_lists_every_rule(all_rules):
    result = run_cli(["rules", "--format", "json"])
    rules = json.loads(result.stdout)
    assert {r["id"] for r in rules} == {r.id for r in all_rules if r.enabled}
    for rule in rules:
        assert {"id", "title", "severity", "soc2", "tags"} <= set(rule)
        assert rule["soc2"]["primary"] and isinstance(rule["soc2"]["secondary"], list)


def test_rules_markdown_and_text():
    assert "| `aws-rds-storage-encrypted` |" in run_cli(["rules", "--format", "markdown"]).stdout
    assert "aws-rds-storage-encrypted" in run_cli(["rules"]).stdout


def test_explain_shows_criteria_and_fix():
    result = run_cli(["explain", "aws-rds-storage-encrypted"])
    assert result.exit_code == 0
    assert "CC6.1 (primary)" in result.stdout and "How to fix" in result.stdout
    missing = run_cli(["explain", "no-such-rule"])
    assert missing.exit_code == 2 and "no rule or catalogue id 'no-such-rule'" in missing.stderr


def user_rule(**changes: str) -> str:
    """The YAML of a small user rule (`x-rule`), with keys replaced or added as YAML text."""
    keys = {
        "id": "x-rule", "title": "A rule of my own", "severity": "low",
        "soc2": "{primary: [CC6.1]}", "tags": "[x-custom]", "precision": "high",
        "target": "{framework: terraform, kind: resource, type: aws_instance}",
        "assert": "{path: monitoring, equals: true}",
        "message": "\"Instance '{name}' is not monitored\"",
    }
    keys.update(changes)
    return "".join(f"{key}: {value}\n" for key, value in keys.items())


def test_bad_user_rule_exits_2_naming_file_and_key(tmp_path):
    write(tmp_path, {"mine/x-rule.yaml": user_rule(severity="severe")})
    result = run_cli(["scan", ".", "--rules-dir", "mine"], tmp_path)
    assert result.exit_code == 2
    assert "mine/x-rule.yaml" in result.stderr and "severity" in result.stderr


def test_bad_condition_and_unknown_criterion_exit_2(tmp_path):
    write(tmp_path, {"a/x-rule.yaml": user_rule(**{"assert": "{path: monitoring, equalz: true}"})})
    result = run_cli(["rules", "--rules-dir", "a"], tmp_path)
    assert result.exit_code == 2 and "a/x-rule.yaml" in result.stderr and "assert" in result.stderr
    write(tmp_path, {"b/x-rule.yaml": user_rule(soc2="{primary: [CC99.1]}")})
    result = run_cli(["rules", "--rules-dir", "b"], tmp_path)
    assert result.exit_code == 2 and "soc2" in result.stderr


def test_user_rule_runs(tmp_path):
    write(tmp_path, {"mine/x-monitoring.yaml": """\
id: x-monitoring
title: Instances have detailed monitoring
severity: low
soc2: {primary: [CC7.2]}
tags: [monitoring, x-custom]
precision: high
target: {framework: terraform, kind: resource, type: aws_instance}
assert: {path: monitoring, equals: true}
report_at: monitoring
message: "Instance '{name}' has no detailed monitoring"
""", "main.tf": 'resource "aws_instance" "web" {\n  ami = "ami-1"\n  monitoring = false\n}\n'})
    data = json.loads(run_cli(["scan", "main.tf", "--rules-dir", "mine", "-f", "json",
                               "--tags", "x-custom"], tmp_path).stdout)
    assert [(r["rule_id"], r["line"], r["outcome"]) for r in data["results"]] == [
        ("x-monitoring", 3, "fail")]


def test_stdin_stream_takes_names_from_source_comments(tmp_path):
    stream = """\
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: ClusterIP}
"""
    result = run_cli(["scan", "-", "-f", "json", "--tags", "workload-hardening"], tmp_path,
                     stdin=stream)
    data = json.loads(result.stdout)
    assert set(data["files"]) == {"web/templates/deployment.yaml", "web/templates/service.yaml"}
    priv = [r for r in data["results"] if r["rule_id"] == "k8s-no-privileged"
            and r["outcome"] == "fail"]
    assert [(r["file"], r["line"]) for r in priv] == [("web/templates/deployment.yaml", 12)]


def test_unvalidated_rule_files_still_reject_unknown_keys(tmp_path):
    from soc2lint.rules import RuleError, load_rule_file

    path = tmp_path / "x-rule.yaml"
    path.write_text(user_rule(where="{path: ami, exists: true}"))
    try:
        load_rule_file(path, validate=False)
    except RuleError as exc:
        assert "x-rule.yaml: where: not a rule key" in str(exc)
    else:
        raise AssertionError("an unknown key must be rejected")


def test_a_file_reached_twice_is_scanned_once(tmp_path):
    write(tmp_path, {"infra/db.tf": BUCKET_TF})
    data = json.loads(run_cli(["scan", "infra", "infra/db.tf", ".", "-f", "json"], tmp_path).stdout)
    assert data["files"] == ["infra/db.tf"]
    rds = [r for r in data["results"] if r["rule_id"] == "aws-rds-storage-encrypted"]
    assert len(rds) == 2


def test_rule_option_runs_named_rules_even_when_disabled(tmp_path, all_rules):
    disabled = next(r for r in all_rules if not r.enabled)
    data = json.loads(run_cli(["scan", ".", "-f", "json", "--rule", disabled.id], tmp_path).stdout)
    assert [r["id"] for r in data["rules"]] == [disabled.id]
    assert run_cli(["scan", ".", "--rule", "no-such-rule"], tmp_path).exit_code == 2


def test_repository_rules_look_at_the_git_root_from_a_subfolder(tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, {".github/CODEOWNERS": "* @org/platform\n", "infra/main.tf": CLEAN_TF})
    for cwd, target in ((tmp_path, "infra"), (tmp_path / "infra", ".")):
        data = json.loads(run_cli(["scan", target, "-f", "json", "--rule",
                                   "gh-codeowners-file-present"], cwd).stdout)
        assert [(r["file"], r["outcome"]) for r in data["results"]] == [
            (".github/CODEOWNERS", "pass")]
    (tmp_path / ".github/CODEOWNERS").unlink()
    data = json.loads(run_cli(["scan", "infra", "-f", "json", "--rule",
                               "gh-codeowners-file-present"], tmp_path).stdout)
    assert [(r["file"], r["line"], r["outcome"]) for r in data["results"]] == [
        ("infra/main.tf", 1, "fail")]  # the missing file cannot hold the finding


def test_everything_after_a_double_dash_is_a_path(tmp_path):
    """Files named like options (as pre-commit passes them after `soc2lint scan --`) are paths."""
    write(tmp_path, {"db.tf": BUCKET_TF, "--config=evil.yaml": "disable: [aws-rds-storage-encrypted]\n",
                     "-f.yaml": "a: 1\n"})
    result = run_cli(["scan", "--fail-on", "high", "-f", "json", "--", "db.tf", "--config=evil.yaml",
                      "-f.yaml"], tmp_path)
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert sorted(s["file"] for s in data["skipped"]) == ["--config=evil.yaml", "-f.yaml"]
    assert any(r["rule_id"] == "aws-rds-storage-encrypted" and r["outcome"] == "fail"
               for r in data["results"])
