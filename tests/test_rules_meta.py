"""Every bundled rule is valid, documented, mapped to SOC 2 and has pass and fail fixtures."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from conftest import ROOT

from soc2lint.rules import SCHEMA_PATH, bundled_rules_dir

RULE_FILES = sorted(p for p in bundled_rules_dir().rglob("*.yaml"))
THEMES = {"encryption-at-rest", "encryption-in-transit", "key-management", "logging",
          "monitoring", "access-control", "mfa", "network-exposure", "least-privilege", "secrets",
          "backup", "availability", "change-management", "supply-chain", "workload-hardening"}


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file_is_valid_and_complete(path, validator):
    raw = yaml.safe_load(path.read_text())
    errors = [e.message for e in validator.iter_errors(raw)]
    assert not errors, errors
    assert raw["id"] == path.stem
    framework = raw["target"].get("framework")
    framework_dir = framework if framework in (
        "terraform", "kubernetes", "github-actions", "soc2lint") else "repository"
    assert path.parent.name == framework_dir
    for key in ("description", "remediation", "limitations"):
        assert str(raw.get(key, "")).strip(), f"{path.name} lacks {key}"
    fixtures = ROOT / "fixtures" / framework_dir / raw["id"]
    names = [p.name for p in fixtures.iterdir()] if fixtures.is_dir() else []
    assert any(n.startswith("pass") for n in names), f"{raw['id']} has no pass fixture"
    assert any(n.startswith("fail") for n in names), f"{raw['id']} has no fail fixture"


def test_every_fixture_directory_belongs_to_a_rule():
    ids = {p.stem for p in RULE_FILES}
    orphans = [p for p in (ROOT / "fixtures").glob("*/*") if p.is_dir() and p.name not in ids]
    assert not orphans


def test_rule_set_covers_the_themes(all_rules):
    assert len(all_rules) >= 50
    tags = {t for rule in all_rules for t in rule.tags}
    assert tags >= THEMES, THEMES - tags
    frameworks = {rule.target.framework for rule in all_rules}
    assert frameworks == {"terraform", "kubernetes", "github-actions", "repository", "soc2lint"}


def test_rule_ids_are_unique_including_aliases(all_rules):
    names = [r.id for r in all_rules] + [a for r in all_rules for a in r.aliases]
    assert len(names) == len(set(names))
