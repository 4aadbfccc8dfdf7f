"""An inline ignore naming no known rule is reported (`ignore-unknown-rule`) and covers nothing."""

from __future__ import annotations

import json

from helpers import ALIASED_RULE, run_cli, write

RDS = "aws-rds-storage-encrypted"
DB = 'resource "aws_db_instance" "scratch" {{\n  engine            = "postgres"\n' \
     '  storage_encrypted = false # soc2lint:ignore {names} -- test data only\n}}\n'


def statuses(root, *args: str) -> tuple[int, list[tuple[str, str, int]]]:
    done = run_cli(["scan", ".", "-f", "json", *args], root)
    assert done.exit_code in (0, 1), done.output
    found = json.loads(done.stdout)["results"]
    return done.exit_code, sorted((r["rule_id"], r["status"], r["line"]) for r in found)


def test_a_misspelt_rule_id_is_reported_at_the_ignore_and_covers_nothing(tmp_path):
    write(tmp_path, {"db.tf": DB.format(names="aws-rds-storage-encypted")})
    code, found = statuses(tmp_path, "--rule", f"{RDS},ignore-unknown-rule")
    assert (code, found) == (1, [(RDS, "fail", 3), ("ignore-unknown-rule", "fail", 3)])
    data = json.loads(run_cli(["scan", ".", "-f", "json", "--rule", "ignore-unknown-rule"],
                              tmp_path).stdout)
    message = data["results"][0]["message"]
    assert "aws-rds-storage-encypted" in message and f"did you mean {RDS}?" in message


def test_the_known_names_of_an_ignore_still_apply(tmp_path):
    write(tmp_path, {"db.tf": DB.format(names=f"{RDS},no-such-rule")})
    code, found = statuses(tmp_path, "--rule", f"{RDS},ignore-unknown-rule")
    assert (code, found) == (1, [(RDS, "suppressed", 3), ("ignore-unknown-rule", "fail", 3)])
    data = json.loads(run_cli(["scan", ".", "-f", "json", "--rule", "ignore-unknown-rule"],
                              tmp_path).stdout)
    assert "(`soc2lint rules` lists the ids)" in data["results"][0]["message"]


def test_a_rule_left_out_of_the_run_is_not_unknown(tmp_path):
    write(tmp_path, {"db.tf": DB.format(names=f"{RDS},aws-s3-versioning")})
    assert statuses(tmp_path, "--rule", "ignore-unknown-rule") == (
        0, [("ignore-unknown-rule", "pass", 3)])


def test_ids_and_aliases_of_extra_rule_directories_are_known(tmp_path):
    write(tmp_path, {"rules/x-db-encrypted.yaml": ALIASED_RULE,
                     "db.tf": DB.format(names="x-old-db-check")})
    assert statuses(tmp_path, "--rules-dir", "rules", "--rule", "ignore-unknown-rule") == (
        0, [("ignore-unknown-rule", "pass", 3)])
    write(tmp_path, {".soc2lint.yaml": "rules_dirs: [rules]\n"})
    assert statuses(tmp_path, "--rule", "ignore-unknown-rule") == (
        0, [("ignore-unknown-rule", "pass", 3)])


def test_a_configuration_ignore_of_an_unknown_rule_is_a_usage_error(tmp_path):
    write(tmp_path, {"db.tf": DB.format(names=RDS), ".soc2lint.yaml":
                     "ignores:\n  - rule: aws-rds-no-such-check\n    justification: test data\n"})
    done = run_cli(["scan", "."], tmp_path)
    assert done.exit_code == 2 and "ignores[0].rule: no rule aws-rds-no-such-check" in done.stderr
