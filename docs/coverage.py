"""Write docs/coverage.md: the rules that implement each entry of the reference SOC 2 check
catalogue, and the rules outside it.

    python docs/coverage.py > docs/coverage.md    # regenerate (from the repository root)
    python docs/coverage.py --check               # exit 1 when the page is stale or the data
                                                  # disagrees with the rules

Everything the page is built from is in the repository, so it regenerates without the reference
catalogue beside the checkout: the bundled rules (rules/, loaded with soc2lint; a rule names the
entry it implements in `catalogue_id`) and docs/catalogue.yaml (each entry's id, platform, our
own short title, and why it is not implemented while no rule is).

The page is a header and a list of tables. To add one (say, rules against another tool's checks),
write a function `(Inputs) -> Table`, add it to TABLES, and give Inputs the data it reads; its
`summary` becomes a line of the header's counts.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # as a script: this checkout's soc2lint, so its rules/ are bundled
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from soc2lint.model import Rule  # noqa: E402
from soc2lint.report.catalogue import DISABLED, _anchor, _code, _heading, _row  # noqa: E402
from soc2lint.rules import bundled_rules_dir, criteria_titles, load_rules  # noqa: E402

DOC = ROOT / "docs" / "coverage.md"
DATA = ROOT / "docs" / "catalogue.yaml"
RULES_DOC = "rules.md"  # relative to docs/coverage.md
COMMAND = "python docs/coverage.py > docs/coverage.md"
TITLE_LIMIT = 80
ENTRY_KEYS = ("id", "platform", "title", "not_implemented")


class CatalogueError(ValueError):
    """docs/catalogue.yaml is not in the expected shape; the message names the entry and key."""


@dataclass(frozen=True)
class Entry:
    """One entry of the reference catalogue, as docs/catalogue.yaml records it."""

    id: str
    platform: str
    title: str
    not_implemented: str | None = None


@dataclass(frozen=True)
class Inputs:
    rules: Sequence[Rule]
    catalogue: Sequence[Entry]
    criteria_titles: Mapping[str, str]

    def implementing(self, entry_id: str) -> list[Rule]:
        return [r for r in self.rules if r.catalogue_id == entry_id]

    def outside_catalogue(self) -> list[Rule]:
        """Rules with no `catalogue_id`, or one that is not in docs/catalogue.yaml."""
        ids = {e.id for e in self.catalogue}
        return [r for r in self.rules if r.catalogue_id not in ids]


@dataclass(frozen=True)
class Table:
    heading: str
    intro: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    summary: str  # one line of the page header's counts


def load_catalogue(path: Path = DATA) -> list[Entry]:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
        raise CatalogueError(f"{path}: expected a mapping with an `entries` list")
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, item in enumerate(raw["entries"]):
        where = f"{path}: entries[{index}]"
        if not isinstance(item, dict):
            raise CatalogueError(f"{where}: expected a mapping")
        where += f" ({item.get('id')})"
        unknown = sorted(set(item) - set(ENTRY_KEYS))
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {unknown}")
        for key in ENTRY_KEYS:
            value = item.get(key)
            if (key in item or key != "not_implemented") and (
                    not isinstance(value, str) or not value.strip() or "\n" in value):
                raise CatalogueError(f"{where}: `{key}` must be a non-empty one-line string")
        if len(item["title"]) > TITLE_LIMIT:
            raise CatalogueError(f"{where}: title longer than {TITLE_LIMIT} characters")
        if item["id"] in seen:
            raise CatalogueError(f"{where}: id listed twice")
        seen.add(item["id"])
        entries.append(Entry(**item))
    return entries


def load_inputs(data: Path = DATA) -> Inputs:
    if bundled_rules_dir().resolve() != (ROOT / "rules").resolve():
        raise SystemExit(f"soc2lint loads its rules from {bundled_rules_dir()}, not from this "
                         f"checkout's rules/: run `{COMMAND}` from the repository root")
    return Inputs(load_rules(), load_catalogue(data), criteria_titles())


def problems(inputs: Inputs) -> list[str]:
    """Where docs/catalogue.yaml and the rules' `catalogue_id`s disagree, with what to do."""
    ids = {e.id for e in inputs.catalogue}
    found = [f"rule {r.id}: catalogue_id {r.catalogue_id} is not in docs/catalogue.yaml"
             for r in inputs.rules if r.catalogue_id and r.catalogue_id not in ids]
    for entry in inputs.catalogue:
        rules = inputs.implementing(entry.id)
        if rules and entry.not_implemented:
            found.append(f"{entry.id} is implemented by {', '.join(r.id for r in rules)}: delete "
                         "its not_implemented line in docs/catalogue.yaml")
        elif not rules and not entry.not_implemented:
            found.append(f"{entry.id}: no rule implements it; say why in a not_implemented line "
                         "in docs/catalogue.yaml")
    return found


def rule_link(rule: Rule, titles: Mapping[str, str]) -> str:
    """The rule id linked to the docs/rules.md section of its first primary criterion."""
    criteria = rule.soc2.primary or rule.soc2.all
    text = _code(rule.id)
    if criteria:
        text = f"[{text}]({RULES_DOC}#{_anchor(_heading(criteria[0], titles))})"
    return text + (f" {DISABLED}" if not rule.enabled else "")


def catalogue_table(inputs: Inputs) -> Table:
    rows = []
    for entry in inputs.catalogue:
        rules = inputs.implementing(entry.id)
        cell = (", ".join(rule_link(r, inputs.criteria_titles) for r in rules) if rules
                else f"not implemented: {entry.not_implemented or 'no reason given'}")
        rows.append((entry.id, entry.platform, entry.title, cell))
    done = sum(bool(inputs.implementing(e.id)) for e in inputs.catalogue)
    total = len(inputs.catalogue)
    return Table(
        heading="Reference catalogue",
        intro=("One row per entry of the reference catalogue, in its order: the rules that "
               "implement it (linked to their section of the [rule catalogue](rules.md)), or why "
               "none does yet."),
        columns=("Catalogue id", "Platform", "Check", "Rules"),
        rows=rows,
        summary=f"Reference catalogue entries implemented: {done} of {total} "
                f"({total - done} not implemented).",
    )


def outside_table(inputs: Inputs) -> Table:
    rules = inputs.outside_catalogue()
    return Table(
        heading="Rules without a catalogue entry",
        intro="Rules that implement no entry of the reference catalogue.",
        columns=("Rule", "Title", "Primary criteria", "Secondary criteria"),
        rows=[(rule_link(r, inputs.criteria_titles), r.title, ", ".join(r.soc2.primary),
               ", ".join(r.soc2.secondary)) for r in rules],
        summary=f"Rules without a catalogue entry: {len(rules)} (of {len(inputs.rules)} rules).",
    )


TABLES: tuple[Callable[[Inputs], Table], ...] = (catalogue_table, outside_table)


def platform_counts(inputs: Inputs) -> list[str]:
    entries = Counter(e.platform for e in inputs.catalogue)
    done = Counter(e.platform for e in inputs.catalogue if inputs.implementing(e.id))
    lines = ["| Platform | Entries | Implemented |", "|---|---:|---:|"]
    return lines + [_row(p, entries[p], done[p]) for p in sorted(entries)]


def render(inputs: Inputs) -> str:
    tables = [make(inputs) for make in TABLES]
    lines = [
        "# Coverage of the reference SOC 2 check catalogue", "",
        "How the soc2lint rules cover the project's reference catalogue of SOC 2 checks. This page "
        f"is generated by `{COMMAND}` (run from the repository root) from the rule files under "
        "`rules/` (a rule names the entry it implements in `catalogue_id`) and from "
        "`docs/catalogue.yaml` (each entry's id, platform, short title and, while no rule "
        "implements it, the reason); edit those, not this page. A test fails when it is stale.", "",
        *(f"- {t.summary}" for t in tables), "",
        *platform_counts(inputs),
    ]
    for table in tables:
        lines += ["", f"## {table.heading}", "", table.intro, "",
                  _row(*table.columns), "|" + "---|" * len(table.columns)]
        lines += [_row(*cells) for cells in table.rows]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, doc: Path = DOC) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 when {doc.name} is stale or the data disagrees with the rules")
    args = parser.parse_args(argv)
    inputs = load_inputs()
    text = render(inputs)
    issues = problems(inputs)
    for issue in issues:
        print(f"coverage: {issue}", file=sys.stderr)
    if not args.check:
        sys.stdout.buffer.write(text.encode("utf-8"))
        return 0
    stale = not doc.is_file() or doc.read_bytes() != text.encode("utf-8")
    if stale:
        print(f"coverage: {doc} is stale: regenerate it with `{COMMAND}`", file=sys.stderr)
    return 1 if stale or issues else 0


if __name__ == "__main__":
    sys.exit(main())
