"""Every bundled rule is valid, documented, mapped to SOC 2 and has pass and fail fixtures."""

from __future__ import annotations

import json
import re

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
    """fixtures/<framework>/<rule id>/, besides the demo project of the README (fixtures/demo)."""
    ids = {p.stem for p in RULE_FILES}
    orphans = [p for p in (ROOT / "fixtures").glob("*/*") if p.is_dir() and p.name not in ids
               and p.parent.name != "demo"]
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


# The words a message's last sentence may start with: each says what to change.
FIX_VERBS = {
    "Add", "Attach", "Bind", "Block", "Configure", "Create", "Declare", "Delete", "Disable",
    "Drop", "Enable", "Encrypt", "Give", "Grant", "Keep", "Let", "Limit", "List", "Make", "Mark",
    "Mount", "Move", "Narrow", "Pass", "Pin", "Point", "Protect", "Put", "Read", "Reference",
    "Remove", "Replace", "Require", "Restrict", "Rotate", "Route", "Run", "Send", "Set", "Store",
    "Turn", "Use", "Write",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`'\"{])")


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_every_message_ends_with_the_fix(path):
    """A finding tells the reader what to change: the message's last sentence is the fix,
    starting with an imperative verb, after at least one sentence saying what is wrong."""
    message = " ".join(yaml.safe_load(path.read_text())["message"].split())
    sentences = _SENTENCE_END.split(message)
    assert len(sentences) >= 2, f"{path.stem}: the message needs what is wrong, then the fix"
    first_word = re.match(r"[A-Za-z]+", sentences[-1])
    assert first_word and first_word.group() in FIX_VERBS, (
        f"{path.stem}: the last sentence should say what to change: {sentences[-1]!r}")
