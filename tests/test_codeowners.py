"""The CODEOWNERS parser: GitHub's matching (last matching line wins, `docs/*` not nested, a line
without owners), the lines GitHub rejects, and what the repository rules derive from it."""

from __future__ import annotations

import pytest
from helpers import write

from soc2lint.codeowners import parse
from soc2lint.repository import repository_entity

# The examples of GitHub's documentation, one block at a time.
GITHUB_EXAMPLE = """\
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
**/logs @octocat
"""


@pytest.mark.parametrize(("path", "owners"), [
    ("README.md", ("@global-owner1", "@global-owner2")),
    ("src/app.js", ("@js-owner",)),
    ("cmd/main.go", ("docs@example.com",)),
    ("notes/a.txt", ("@octo-org/octocats",)),
    ("build/logs/run.log", ("@octocat",)),  # `/build/logs/`, then `**/logs` later: the last wins
    ("build/logs", ("@octocat",)),
    ("build/other.md", ("@global-owner1", "@global-owner2")),
    ("docs/getting-started.md", ("docs@example.com",)),
    ("docs/build-app/troubleshooting.md", ("@global-owner1", "@global-owner2")),  # not nested
    ("web/apps/index.md", ("@octocat",)),  # `apps/` anywhere
    ("deeply/nested/logs/x.md", ("@octocat",)),
])
def test_github_documentation_examples(path, owners):
    assert parse("CODEOWNERS", GITHUB_EXAMPLE).owners_of(path) == owners


def test_a_line_without_owners_leaves_its_paths_unowned_and_unmatched_is_different():
    owners = parse("CODEOWNERS", "/apps/ @octocat\n/apps/github\n")
    assert owners.owners_of("apps/main/index.js") == ("@octocat",)
    assert owners.owners_of("apps/github/index.js") == ()
    assert owners.owners_of("README.md") is None
    assert owners.rule_for("apps/github/index.js").line == 2


def test_lines_github_rejects_are_reported_and_ignored():
    owners = parse(".github/CODEOWNERS", "* @org/all\n!infra/ @org/x\n[ab].md @y\n\\#notes @z\n"
                                         "*.tf @sre nobody\n/infra/ @-bad\n")
    not_an_owner = "is not a user (@name), a team (@org/team) or an email address"
    assert [(p.line, p.message.split(":")[0]) for p in owners.problems] == [
        (2, "'!infra/'"), (3, "'[ab].md'"), (4, "'\\#notes'"), (5, f"'nobody' {not_an_owner}"),
        (6, f"'@-bad' {not_an_owner}")]
    assert owners.owners_of("infra/main.tf") == ("@org/all",)  # the rejected lines do not apply


def test_an_escaped_space_belongs_to_the_pattern():
    owners = parse("CODEOWNERS", "/my\\ docs/ @writers\n")
    assert owners.owners_of("my docs/a.md") == ("@writers",)
    assert owners.problems == ()


def test_the_repository_lists_files_without_an_owner(tmp_path):
    write(tmp_path, {".github/CODEOWNERS": "/infra/ @sre\n/infra/old/\n",
                     ".github/workflows/ci.yml": "on: push\n", "infra/main.tf": "",
                     "infra/old/main.tf": "", "k8s/app.yaml": "", "src/app.py": ""})
    scanned = [tmp_path / p for p in ("infra/main.tf", "infra/old/main.tf", "k8s/app.yaml")]
    entity = repository_entity(".", tmp_path, scanned)
    # application code is not scanned, so it is not asked to have an owner
    assert entity.data["unowned_files"] == [".github/workflows/ci.yml", "infra/old/main.tf", "k8s/app.yaml"]
    assert entity.data["codeowners_problems"] == []
