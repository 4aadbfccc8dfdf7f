"""docs/coverage.md is the output of docs/coverage.py, and docs/catalogue.yaml, the data it is built
from, agrees with the rules and with the reference catalogue when that is beside the checkout."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter

import pytest
import yaml
from conftest import ROOT

DOC = ROOT / "docs" / "coverage.md"
DATA = ROOT / "docs" / "catalogue.yaml"
REFERENCE = ROOT.parent / "shared" / "soc2" / "catalogue.yaml"
REGENERATE = "python docs/coverage.py > docs/coverage.md"


@pytest.fixture(scope="module")
def coverage():
    spec = importlib.util.spec_from_file_location("docs_coverage", ROOT / "docs" / "coverage.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inputs(coverage):
    return coverage.load_inputs()


@pytest.fixture(scope="module")
def reference() -> list[dict]:
    if not REFERENCE.is_file():
        pytest.skip(f"no reference catalogue at {REFERENCE} (it lives beside the checkout in CI)")
    with open(REFERENCE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["rules"]


def test_docs_coverage_md_is_up_to_date(coverage, inputs):
    assert DOC.read_bytes() == coverage.render(inputs).encode("utf-8"), (
        f"docs/coverage.md is stale: regenerate it with `{REGENERATE}` from the repository root")


def test_check_option_reports_a_stale_page(coverage, tmp_path, capsys):
    assert coverage.main(["--check"]) == 0, capsys.readouterr().err
    stale = tmp_path / "coverage.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert coverage.main(["--check"], doc=stale) == 1
    assert REGENERATE in capsys.readouterr().err


def test_every_catalogue_id_of_a_rule_is_in_docs_catalogue(inputs):
    known = {e.id for e in inputs.catalogue}
    unknown = {r.id: r.catalogue_id for r in inputs.rules
               if r.catalogue_id and r.catalogue_id not in known}
    assert not unknown, (f"rules name catalogue ids that docs/catalogue.yaml lacks: {unknown}; "
                         "fix the rule's catalogue_id or add the entry")


def test_docs_catalogue_has_the_ids_of_the_reference_catalogue(inputs, reference):
    ours = [e.id for e in inputs.catalogue]
    theirs = [e["id"] for e in reference]
    missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
    assert not missing and not extra, (
        f"docs/catalogue.yaml differs from {REFERENCE}: add {missing}, remove {extra}")
    assert len(ours) == len(set(ours))


def test_platforms_match_and_titles_are_our_own(inputs, reference):
    theirs = {e["id"]: e for e in reference}
    for entry in inputs.catalogue:
        assert entry.platform == theirs[entry.id]["platform"], entry
        assert entry.title.casefold() != theirs[entry.id]["title"].casefold(), (
            f"{entry.id}: write the title in our own words")


def test_reasons_are_given_exactly_for_entries_without_a_rule(coverage, inputs):
    for entry in inputs.catalogue:
        rules = [r.id for r in inputs.implementing(entry.id)]
        if rules:
            assert entry.not_implemented is None, (
                f"{entry.id} is implemented by {rules}: delete its not_implemented line in "
                f"docs/catalogue.yaml, then run `{REGENERATE}`")
        else:
            assert entry.not_implemented and entry.not_implemented.strip(), (
                f"{entry.id}: no rule implements it; give the reason in a not_implemented line "
                "in docs/catalogue.yaml")
    assert coverage.problems(inputs) == []


def test_titles_are_short(inputs):
    for entry in inputs.catalogue:
        assert 0 < len(entry.title) <= 80, entry


def test_rule_links_point_at_sections_of_docs_rules_md(inputs):
    """Every rule is linked once per row it is in, to a heading that docs/rules.md has."""
    headings = re.findall(r"^## (.+)$", (ROOT / "docs" / "rules.md").read_text("utf-8"), re.M)
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
    links = re.findall(r"\[`([^`]+)`\]\(rules\.md#([^)]+)\)", DOC.read_text("utf-8"))
    assert links
    assert not {a for _, a in links} - anchors
    linked = Counter(rule for rule, _ in links)
    catalogued = {e.id for e in inputs.catalogue}
    assert linked == Counter(r.id for r in inputs.rules if r.catalogue_id in catalogued) + Counter(
        r.id for r in inputs.outside_catalogue())


def test_bad_data_is_refused_with_the_entry_named(coverage, tmp_path):
    cases = {
        "entries:\n  - {id: X-1, platform: aws}\n": "`title`",
        "entries:\n  - {id: X-1, platform: aws, title: t, note: n}\n": "unknown keys",
        f"entries:\n  - {{id: X-1, platform: aws, title: {'t' * 81}}}\n": "longer than 80",
        "entries:\n  - {id: X-1, platform: aws, title: t, not_implemented: ''}\n": "not_implemented",
        "entries:\n  - {id: X-1, platform: aws, title: t}\n  - {id: X-1, platform: aws, title: u}\n":
            "twice",
    }
    for text, message in cases.items():
        path = tmp_path / "catalogue.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(coverage.CatalogueError, match=re.escape(message)):
            coverage.load_catalogue(path)
