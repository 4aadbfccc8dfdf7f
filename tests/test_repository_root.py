"""Repository rules: which directory is a repository, and the existing file their findings name."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import CLEAN_TF, commit, git, git_init, run_cli, write

RULE = "gh-codeowners-file-present"
WORKFLOW = "name: CI\non: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n" \
           "    steps:\n      - run: make test\n"


def results(root: Path, *args: str) -> tuple[int, list[tuple[str, int, str]]]:
    done = run_cli(["scan", "-f", "json", "--rule", RULE, *args], root)
    assert done.exit_code in (0, 1), done.output
    data = json.loads(done.stdout)
    return done.exit_code, [(r["file"], r["line"], r["status"]) for r in data["results"]]


def test_a_missing_codeowners_file_is_reported_at_the_readme(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"README.md": "# service\n", "infra/main.tf": CLEAN_TF})
    code, found = results(tmp_path, ".")
    assert (code, found) == (1, [("README.md", 1, "fail")])
    sarif = json.loads(run_cli(["scan", ".", "-f", "sarif", "--rule", RULE], tmp_path).stdout)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"] for loc in result["locations"]]
    assert uris == ["README.md"] and all((tmp_path / uri).is_file() for uri in uris)


def test_without_a_readme_the_finding_stands_at_the_first_file_scanned(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"infra/main.tf": CLEAN_TF, ".github/workflows/ci.yml": WORKFLOW})
    assert results(tmp_path, "infra") == (1, [("infra/main.tf", 1, "fail")])
    assert results(tmp_path, ".") == (1, [(".github/workflows/ci.yml", 1, "fail")])


def test_a_passing_result_stands_at_the_codeowners_file(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"docs/CODEOWNERS": "* @acme\n", "main.tf": CLEAN_TF})
    assert results(tmp_path, ".") == (0, [("docs/CODEOWNERS", 1, "pass")])


def test_inside_git_the_repository_is_the_top_of_the_work_tree(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"README": "service\n", "deep/infra/main.tf": CLEAN_TF})
    assert results(tmp_path / "deep", "infra") == (1, [("README", 1, "fail")])


def test_outside_git_a_folder_without_github_is_not_a_repository(tmp_path):
    write(tmp_path, {"main.tf": CLEAN_TF, "README.md": "# x\n"})
    assert results(tmp_path, ".") == (0, [])


def test_outside_git_a_folder_with_github_is_one(tmp_path):
    write(tmp_path, {"main.tf": CLEAN_TF, ".github/workflows/ci.yml": WORKFLOW})
    assert results(tmp_path, ".") == (1, [(".github/workflows/ci.yml", 1, "fail")])


def test_scanning_the_github_folder_outside_git_looks_for_no_nested_repository(tmp_path):
    write(tmp_path, {".github/workflows/ci.yml": WORKFLOW})
    assert results(tmp_path, ".github") == (0, [])


def test_a_folder_with_nothing_to_scan_exits_0_and_says_so(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"README.md": "# docs only\n", "empty/.keep": ""})
    for target in (".", "empty"):
        done = run_cli(["scan", target], tmp_path)
        assert done.exit_code == 0, done.output
        assert (f"nothing to scan in {target}: no Terraform, Kubernetes or GitHub Actions files"
                in done.stderr)


def test_a_file_list_judges_no_repository(tmp_path):
    """pre-commit passes file names: the repository is not walked, so not judged."""
    git_init(tmp_path)
    write(tmp_path, {"README.md": "# service\n", "main.tf": CLEAN_TF})
    assert results(tmp_path, "--", "main.tf") == (0, [])


def test_a_change_answers_for_the_repository_only_when_it_touches_a_codeowners_file(tmp_path):
    write(tmp_path, {"README.md": "# service\n", "main.tf": CLEAN_TF, "CODEOWNERS": "* @acme\n"})
    git_init(tmp_path)
    git(tmp_path, "checkout", "-q", "-b", "main")
    commit(tmp_path, "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    git(tmp_path, "rm", "-q", "CODEOWNERS")
    for extra in ([], ["-f", f"sarif={tmp_path / 'o.sarif'}"]):
        assert results(tmp_path, ".", "--diff-base", "main", *extra) == (
            1, [("README.md", 1, "fail")])
    commit(tmp_path, "no owners")
    git(tmp_path, "branch", "-f", "main")
    write(tmp_path, {"README.md": "# service, renamed\n"})  # the anchor changes, not the owners
    for extra in ([], ["-f", f"sarif={tmp_path / 'o.sarif'}"]):
        assert results(tmp_path, ".", "--diff-base", "main", "--changed-lines-only", *extra) == (
            0, [])
