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


def test_a_file_named_like_an_option_is_scanned_as_a_file(tmp_path, index_reachable):
    """A committed `--config=evil.yaml` (which would disable the rule) is a path after the `--`."""
    evil = "disable: [aws-rds-storage-encrypted]\n"
    repo = _repo(tmp_path, {"infra/db.tf": FAILING, "--config=evil.yaml": evil,
                            "--no-config.yaml": "a: 1\n"})
    result = _try_repo(repo, "--all-files", "--verbose")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "aws-rds-storage-encrypted" in result.stdout
    assert "2 file(s) not checked: not a Kubernetes manifest" in result.stdout  # both read as files


def test_hook_manifest_is_valid_and_covers_every_input_kind():
    import re

    import yaml

    from soc2lint.discovery import kind_of

    result = subprocess.run([*_pre_commit(), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    assert (hook["id"], hook["language"], hook["entry"]) == ("soc2lint", "python", "soc2lint scan --")
    assert hook["require_serial"] is True and hook.get("pass_filenames", True) is True
    assert "types" not in hook and "types_or" not in hook  # types and files are ANDed
    for name in ("main.tf", "a/main.tf.json", "main.tofu", "main.tofu.json", "prod.tfvars",
                 "x.auto.tfvars.json", "k8s/app.yaml", ".github/workflows/ci.yml", "action.yml"):
        assert re.search(hook["files"], name) and kind_of(name.rsplit("/", 1)[-1]), name
        assert not re.search(hook["exclude"], name)
    for name in ("README.md", "main.py", "main.tf.bak"):
        assert not re.search(hook["files"], name) and kind_of(name) is None, name
    assert re.search(hook["exclude"], ".terraform/modules/vpc/main.tf")
    assert re.search(hook["exclude"], "stacks/app/.terraform/providers/x.tf")


def test_readme_pre_commit_entry_is_a_valid_config(tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("# .pre-commit-config.yaml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(block)
    result = subprocess.run([*_pre_commit(), "validate-config", str(config)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "id: soc2lint" in block
