"""docs/rules.md is the output of `soc2lint rules --format markdown`, and that output is right."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from conftest import ROOT
from helpers import run_cli

from soc2lint.report import _criterion_key

DOC = ROOT / "docs" / "rules.md"
REGENERATE = "soc2lint rules --format markdown > docs/rules.md"


@pytest.fixture(scope="module")
def output():
    result = run_cli(["rules", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def catalogue(output) -> str:
    return output.stdout


def test_docs_rules_md_is_up_to_date(output):
    assert output.stdout_bytes == DOC.read_bytes(), (
        f"docs/rules.md is stale: regenerate it with `{REGENERATE}` from the repository root")


def _sections(markdown: str) -> dict[str, list[list[str]]]:
    """`## <criterion> ...` heading -> the cells of the table rows below it (header excluded)."""
    sections: dict[str, list[list[str]]] = {}
    rows: list[list[str]] | None = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            rows = sections.setdefault(line[3:].split()[0], [])
        elif rows is not None and line.startswith("|") and not line.startswith(("|---", "| Rule |")):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return sections


def _rows_by_rule(rows: list[list[str]], rule_ids) -> dict[str, list[str]]:
    found = {}
    for cells in rows:
        named = [i for i in rule_ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", cells[0])]
        assert len(named) == 1, f"row names {named or 'no rule'}: {cells}"
        found[named[0]] = cells
    return found


def test_every_rule_is_in_the_section_of_each_of_its_criteria(catalogue, all_rules):
    sections = _sections(catalogue)
    ids = [r.id for r in all_rules]
    for rule in all_rules:
        for role, criteria in (("primary", rule.soc2.primary), ("secondary", rule.soc2.secondary)):
            for criterion in criteria:
                assert criterion in sections, f"no section for {criterion} ({rule.id})"
                rows = _rows_by_rule(sections[criterion], ids)
                assert rule.id in rows, f"{rule.id} missing from the {criterion} section"
                assert rows[rule.id][3] == role, f"{rule.id} in {criterion}: {rows[rule.id]}"


def test_sections_follow_the_criterion_order(catalogue, all_rules):
    headings = [h for h in _sections(catalogue) if h != "Rules"]
    expected = sorted({c for r in all_rules for c in r.soc2.all}, key=_criterion_key)
    assert headings == expected
    assert "## Rules by framework" in catalogue


def test_rule_ids_are_code_and_disabled_rules_are_marked(catalogue, all_rules):
    sections = _sections(catalogue)
    ids = [r.id for r in all_rules]
    plain = [r for r in all_rules if re.fullmatch(r"[a-z0-9][a-z0-9-]*", r.id)]
    assert plain and any(not r.enabled for r in plain), "no plain or disabled rule left to check"
    for rule in plain:
        for criterion in rule.soc2.all:
            first = _rows_by_rule(sections[criterion], ids)[rule.id][0]
            assert first.startswith(f"`{rule.id}`"), first
            assert ("disabled by default" in first) is (not rule.enabled), first


def test_pipes_in_cells_are_escaped(all_rules):
    from soc2lint.report.catalogue import render_catalogue_markdown

    rule = replace(all_rules[0], title="a | b", tags=("x|y",))
    row = next(line for line in render_catalogue_markdown([rule], {}).splitlines()
               if line.startswith(f"| `{rule.id}`"))
    assert "a \\| b" in row and "x\\|y" in row
    assert len(re.split(r"(?<!\\)\|", row)) == 8, row
