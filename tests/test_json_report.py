"""The JSON report follows its published schema and carries every outcome with counts."""

from __future__ import annotations

import json

import jsonschema
from conftest import ROOT
from helpers import BUCKET_TF, run_cli, write

SCHEMA = json.loads((ROOT / "soc2lint" / "schema" / "report.schema.json").read_text())


def test_json_matches_schema_and_counts_agree(tmp_path):
    write(tmp_path, {"db.tf": BUCKET_TF, "bad.yaml": "a: [\n"})
    data = json.loads(run_cli(["scan", ".", "-f", "json"], tmp_path).stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    outcomes = {o: sum(1 for r in data["results"] if r["status"] == o)
                for o in ("fail", "pass", "unknown", "suppressed")}
    assert data["summary"]["outcomes"] == outcomes
    assert outcomes["fail"] and outcomes["pass"] and outcomes["unknown"], \
        "the example has a pass, a fail and an unknown"
    for rule in data["rules"]:
        mine = [r for r in data["results"] if r["rule_id"] == rule["id"]]
        assert sum(rule["counts"].values()) == len(mine)
    assert data["summary"]["errors"] == 1


def test_fixtures_json_matches_schema():
    data = json.loads(run_cli(["scan", "fixtures", "-f", "json"], ROOT).stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
