"""The pre-commit hook, driven by the real `pre-commit` tool in a temporary git repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

FAILING = 'resource "aws_db_instance" "orders" {\n  engine            = "postgres"\n' \
          '  storage_encrypted = false\n}\n'
COMPLIANT = 'resource "aws_ebs_encryption_by_default" "this" {\n  enabled = true\n}\n'


def _pre_commit() -> list[str]:
    exe = Path(sys.executable).parent / "pre-commit"
    if not exe.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return [str(exe)]


@pytest.fixture(scope="module")
def index_reachable():
    probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                            str(Path("/tmp") / "soc2lint-pip-probe"), "click"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"the package index cannot be reached: {probe.stderr.strip()[:200]}")


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    return repo


def _try_repo(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_pre_commit(), "try-repo", str(ROOT), "soc2lint", *args],
                          cwd=repo, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed")
def test_hook_fails_on_a_non_compliant_file_and_passes_on_a_compliant_one(tmp_path,
                                                                          index_reachable):
    bad = _try_repo(_repo(tmp_path / "bad", {"infra/db.tf": FAILING}), "--all-files")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "aws-rds-storage-encrypted" in bad.stdout
    good = _try_repo(_repo(tmp_path / "good", {"infra/ebs.tf": COMPLIANT, "README.md": "x\n"}),
                     "--all-files")
    assert good.returncode == 0, good.stdout + good.stderr


def test_files_option_scans_only_that_file(tmp_path, index_reachable):
    repo = _repo(tmp_path, {"infra/db.tf": FAILING, "infra/ebs.tf": COMPLIANT})
    result = _try_repo(repo, "--files", "infra/ebs.tf", "--verbose")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 files" in result.stdout and "db.tf" not in result.stdout
