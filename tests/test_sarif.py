"""SARIF: valid against the official schema, GitHub's requirements, stable and deterministic."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import ROOT, assert_sarif_valid
from helpers import BUCKET_TF, CLEAN_TF, git_init, run_cli, write

from soc2lint.model import Entity, Finding, Outcome, RelatedLocation, ScanResult, Severity, Span
from soc2lint.report import sarif


def sarif_of(args, cwd=None) -> dict:
    result = run_cli(["scan", *args, "--format", "sarif"], cwd)
    assert result.exit_code in (0, 1, 3), result.output
    return json.loads(result.stdout)



def test_fixtures_sarif_is_valid_and_complete(sarif_validator, all_rules):
    log = sarif_of([str(ROOT / "fixtures")], cwd=ROOT)
    assert_sarif_valid(sarif_validator, log)
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


def test_clean_scan_has_empty_results(tmp_path, sarif_validator, all_rules):
    write(tmp_path, {"main.tf": 'locals {\n  region = "eu-west-1"\n}\n',
                     ".github/CODEOWNERS": "* @org/platform\n"})
    result = run_cli(["scan", str(tmp_path), "--format", "sarif"])
    assert result.exit_code == 0, result.output
    assert '"results": []' in result.stdout, "an empty list, not a missing property"
    log = json.loads(result.stdout)
    assert_sarif_valid(sarif_validator, log)
    assert log["runs"][0]["results"] == []
    # every evaluated rule is listed although none fired, so GitHub closes fixed alerts
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == \
        [r.id for r in all_rules if r.enabled]


def test_unknowns_stay_out_unless_asked(tmp_path, sarif_validator):
    write(tmp_path, {"db.tf": BUCKET_TF})
    default = sarif_of([str(tmp_path)])
    ids = [r["ruleId"] for r in default["runs"][0]["results"]]
    assert "aws-rds-storage-encrypted" in ids
    assert not any(i.endswith("/unresolved") for i in ids)
    asked = sarif_of([str(tmp_path), "--sarif-include-unknown"])
    assert_sarif_valid(sarif_validator, asked)
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
    ten_lines = "# a comment\n\nlocals {\n  a = 1\n}\n\n# more\n# and more\n\n\n"
    assert ten_lines.count("\n") == 10
    write(tmp_path, {"infra/db.tf": ten_lines + BUCKET_TF})
    after = sarif_of(["infra", "--tags", "encryption-at-rest"], cwd=tmp_path)
    from_sub = sarif_of([".", "--tags", "encryption-at-rest"], cwd=tmp_path / "infra")
    from_file = sarif_of(["db.tf", "--tags", "encryption-at-rest"], cwd=tmp_path / "infra")
    assert _fingerprints(before), "the fixture must fail"
    assert _fingerprints(before) == _fingerprints(after) == _fingerprints(from_sub) \
        == _fingerprints(from_file)
    for log in (after, from_sub, from_file):
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for r in log["runs"][0]["results"]}
        assert uris == {"infra/db.tf"}

    def lines(log):
        return sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"]
                      for r in log["runs"][0]["results"])

    assert lines(after) == [line + 10 for line in lines(before)] and min(lines(before)) == 4
    assert lines(from_sub) == lines(after)


def test_for_each_instances_have_distinct_fingerprints(tmp_path):
    write(tmp_path, {"ebs.tf": """\
resource "aws_ebs_volume" "this" {
  for_each          = { a = false, b = false }
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = each.value
}
"""})
    log = sarif_of([str(tmp_path), "--rule", "aws-ebs-volume-encrypted"])
    results = log["runs"][0]["results"]
    assert sorted(r["properties"]["resource"] for r in results) == \
        ['aws_ebs_volume.this["a"]', 'aws_ebs_volume.this["b"]']
    prints = {r["partialFingerprints"]["soc2lint/v1"] for r in results}
    assert len(prints) == 2


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


def test_uris_are_percent_encoded_and_repo_relative_from_any_folder(tmp_path, sarif_validator):
    git_init(tmp_path)
    write(tmp_path, {"my infra/#1 é.tf": BUCKET_TF})
    sub = tmp_path / "my infra"
    runs = {"root": (["."], tmp_path), "root, folder": (["my infra"], tmp_path),
            "subfolder": (["."], sub), "subfolder, file": (["#1 é.tf"], sub)}
    for name, (paths, cwd) in runs.items():
        log = sarif_of([*paths, "--tags", "encryption-at-rest"], cwd=cwd)
        assert_sarif_valid(sarif_validator, log)
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for r in log["runs"][0]["results"]]
        assert uris and set(uris) == {"my%20infra/%231%20%C3%A9.tf"}, name
        for uri in uris:
            assert not uri.startswith(("/", "./", "..")) and ":" not in uri, name


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
    assert_sarif_valid(sarif_validator, log)
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
    assert_sarif_valid(sarif_validator, log)
    (result,) = log["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                       "justification": "test data only"}]


def _synthetic(rules_by_severity, count, related=0, message="{i} is not encrypted"):
    """`count` failures cycling through the severities, each of its own resource and line."""
    severities = list(Severity)
    findings = []
    for i in range(count):
        rule = rules_by_severity[severities[i % len(severities)]]
        links = tuple(RelatedLocation("live/main.tf", Span(n + 1), f"module.m{n} is called here")
                      for n in range(related))
        entity = Entity("terraform", "resource", "aws_x", f"aws_x.r{i}", f"infra/f{i % 40}.tf",
                        Span(i + 1), {}, related=links)
        findings.append(Finding(rule, entity, Outcome.FAIL, message.format(i=i), Span(i + 1, 3)))
    rules = tuple(dict.fromkeys(rules_by_severity.values()))
    return ScanResult(rules, tuple(findings), (), ())


@pytest.fixture(scope="module")
def rules_by_severity(all_rules):
    found = {}
    for rule in all_rules:
        if rule.enabled:
            found.setdefault(rule.severity, rule)
    assert set(found) == set(Severity)
    return found


def _notes(log) -> list[tuple[str, str]]:
    notes = log.runs[0].invocations[0].tool_execution_notifications or []
    return [(n.level, n.message.text) for n in notes]


def test_results_beyond_githubs_cap_are_the_least_severe(rules_by_severity):
    total = sarif.MAX_RESULTS + 1_000
    scan = _synthetic(rules_by_severity, total)
    log = sarif.build_log(scan)
    results = log.runs[0].results
    assert len(results) == sarif.MAX_RESULTS
    # a quarter of the findings are low: the 1,000 left out are all low, the others all kept
    kept = {r.properties["resource"] for r in results}
    levels = {f.entity.address: f.rule.severity for f in scan.findings}
    dropped = [a for a in levels if a not in kept]
    assert len(dropped) == 1_000 and {levels[a] for a in dropped} == {Severity.LOW}
    assert sum(levels[a] is Severity.LOW for a in kept) == total // 4 - 1_000
    assert ("warning", "1,000 of 26,000 results left out: GitHub accepts at most 25,000 per run; "
            "the most severe were kept") in _notes(log)
    assert ("note", "25,000 results: GitHub code scanning shows only the 5,000 most severe of a "
            "run") in _notes(log)
    # results stay in file order, deterministic
    keys = [(r.locations[0].physical_location.artifact_location.uri,
             r.locations[0].physical_location.region.start_line) for r in results]
    assert keys == sorted(keys)


def test_no_cap_notifications_under_githubs_limits(rules_by_severity, monkeypatch):
    assert _notes(sarif.build_log(_synthetic(rules_by_severity, 40))) == []
    monkeypatch.setattr(sarif, "SHOWN_RESULTS", 30)
    assert _notes(sarif.build_log(_synthetic(rules_by_severity, 40))) == [
        ("note", "40 results: GitHub code scanning shows only the 30 most severe of a run")]


def test_exit_code_and_json_count_results_the_sarif_cap_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(sarif, "MAX_RESULTS", 1)
    write(tmp_path, {"db.tf": "".join(
        f'resource "aws_db_instance" "db{i}" {{\n  storage_encrypted = false\n}}\n' for i in range(3))})
    out = tmp_path / "out.sarif"
    result = run_cli(["scan", ".", "--rule", "aws-rds-storage-encrypted", "--format", "json",
                      "--format", f"sarif={out}"], cwd=tmp_path)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["outcomes"]["fail"] == 3
    log = json.loads(out.read_text(encoding="utf-8"))
    run = log["runs"][0]
    assert len(run["results"]) == 1
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert "2 of 3 results left out: GitHub accepts at most 1 per run; the most severe were kept" \
        in notes


def test_related_locations_are_capped(rules_by_severity, sarif_validator):
    scan = _synthetic(rules_by_severity, 1, related=1_500)
    log = json.loads(sarif.render_sarif(scan))
    assert_sarif_valid(sarif_validator, log)
    (result,) = log["runs"][0]["results"]
    assert len(result["locations"]) == 1
    assert len(result["locations"]) + len(result["relatedLocations"]) == sarif.MAX_LOCATIONS
    assert result["properties"]["relatedLocationsLeftOut"] == 501
    assert [r["id"] for r in result["relatedLocations"]] == list(range(999))


def test_a_file_over_the_compressed_size_limit_keeps_the_most_severe(rules_by_severity,
                                                                    monkeypatch):
    scan = _synthetic(rules_by_severity, 400)
    whole = sarif.render_sarif(scan)
    monkeypatch.setattr(sarif, "MAX_GZIP_BYTES", len(gzip.compress(whole.encode())) // 2)
    assert sarif.compressed_size(whole) > sarif.MAX_GZIP_BYTES
    text = sarif.render_sarif(scan)
    assert sarif.compressed_size(text) <= sarif.MAX_GZIP_BYTES
    run = json.loads(text)["runs"][0]
    kept = {r["properties"]["resource"] for r in run["results"]}
    assert 0 < len(kept) < 400
    rank = {f.entity.address: f.rule.severity.rank for f in scan.findings}
    assert min(rank[a] for a in kept) >= max(rank[a] for a in rank if a not in kept)
    (note,) = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert note.startswith(f"{400 - len(kept)} of 400 results left out: GitHub rejects a SARIF "
                           "file larger than")
    assert note.endswith("MB gzip-compressed; the most severe were kept")
    assert sarif.render_sarif(scan) == text, "deterministic"
