"""Seed inputs: every file of the repository's fixtures/, placed where the scanner reads it."""

from __future__ import annotations

from pathlib import Path

from .case import Case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _placed(relative: Path) -> str:
    """Where a fixture file goes in a scanned tree, so it is read as the right kind."""
    name = relative.name
    if relative.parts[0] == "github-actions":
        return f".github/workflows/{name}"
    if relative.parts[0] == "kubernetes":
        return f"k8s/{name}"
    return name


def load(fixtures: Path = FIXTURES) -> list[Case]:
    """One case per fixture file of a kind the scanner reads, with its directory's Terraform
    files beside it (variables and tfvars need their module)."""
    cases = []
    for path in sorted(fixtures.rglob("*")):
        lowered = path.name.lower()
        if not path.is_file() or not lowered.endswith((".tf", ".tfvars", ".json", ".yaml", ".yml")):
            continue
        target = _placed(path.relative_to(fixtures))
        files = {target: path.read_bytes()}
        if lowered.endswith((".tf", ".tfvars", ".tf.json")):
            for sibling in sorted(path.parent.iterdir()):
                if sibling != path and sibling.suffix in (".tf", ".tfvars") and sibling.is_file():
                    files[sibling.name] = sibling.read_bytes()
        cases.append(Case(files, target, (f"seed {path.relative_to(fixtures)}",)))
    return cases
