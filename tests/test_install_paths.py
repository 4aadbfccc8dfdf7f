"""Each install path of the README, run as written from a fresh clone: pip from the clone, pip
from a git URL at a commit (a local clone stands in for GitHub), pre-commit pinned by
`autoupdate --freeze`, and the Action's pinned `uses:`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from helpers import run_cli, write

GITHUB = "https://github.com/soc2lint/soc2lint"
FAILING = 'resource "aws_db_instance" "orders" {\n  storage_encrypted = false\n}\n'

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs git and a git checkout of soc2lint")


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def _sh_block(holding: str) -> str:
    """The README's one shell block that holds `holding`."""
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", _readme(), re.S) if holding in b]
    assert len(blocks) == 1, blocks
    return blocks[0]


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> tuple[Path, str]:
    """A clone of this checkout's HEAD named like the GitHub repository, and its commit."""
    folder = tmp_path_factory.mktemp("origin") / "soc2lint"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(folder)], check=True)
    sha = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=True).stdout.strip()
    return folder, sha


def _sh(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    environment.update(env)
    return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=900)


def test_readme_names_no_release_that_does_not_exist():
    readme = _readme()
    assert not re.search(r"pip install soc2lint(?!==X)", readme)
    assert "v0.1.0" not in readme
    assert "rev: <commit-sha>" in readme and "soc2lint/soc2lint@<commit-sha>" in readme


def test_install_from_a_clone_then_scan_the_demo(origin, tmp_path, index_reachable):
    source, _ = origin
    script = _sh_block(f"git clone {GITHUB}").replace(GITHUB, source.as_uri())
    installed = _sh(script, tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    clone = tmp_path / "soc2lint"
    scan = _sh(".venv/bin/soc2lint scan fixtures/demo/ --no-color", clone)
    assert scan.returncode == 1, scan.stdout + scan.stderr
    assert "aws-rds-storage-encrypted" in scan.stdout and "7 failed" in scan.stdout


def test_install_from_a_git_url_at_a_commit(origin, tmp_path, index_reachable):
    source, sha = origin
    script = _sh_block(f'"git+{GITHUB}@').replace(GITHUB, source.as_uri())
    assert "<commit-sha>" in script
    installed = _sh(script.replace("<commit-sha>", sha), tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    write(tmp_path, {"infra/main.tf": FAILING})
    scan = _sh(".venv/bin/soc2lint scan infra --no-color", tmp_path)
    assert scan.returncode == 1 and "aws-rds-storage-encrypted" in scan.stdout, scan.stderr
    freeze = _sh(".venv/bin/python -m pip freeze", tmp_path).stdout
    assert f"@ git+{source.as_uri()}@{sha}" in freeze, freeze


def _pre_commit() -> str:
    exe = Path(sys.executable).parent / "pre-commit"
    if not exe.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return str(exe)


def test_pre_commit_pinned_by_autoupdate_freeze_runs_the_hook(origin, tmp_path, index_reachable):
    """The README's configuration as written: `autoupdate --freeze` replaces `<commit-sha>` with
    the newest commit's full SHA (no tag exists), and the hook then fails a non-compliant file."""
    source, sha = origin
    repo = tmp_path / "repo"
    config = _readme().split("# .pre-commit-config.yaml\n", 1)[1].split("```", 1)[0]
    write(repo, {".pre-commit-config.yaml": config.replace(GITHUB, source.as_uri()),
                 "infra/db.tf": FAILING})
    env = {"PRE_COMMIT_HOME": str(tmp_path / "cache")}
    steps = _sh(f"git init -q && git add -A && {_pre_commit()} autoupdate --freeze", repo, **env)
    assert steps.returncode == 0, steps.stdout + steps.stderr
    pinned = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert pinned["rev"] == sha
    hook = _sh(f"git add -A && {_pre_commit()} run --all-files", repo, **env)
    assert hook.returncode == 1, hook.stdout + hook.stderr
    assert "aws-rds-storage-encrypted" in hook.stdout


def test_the_action_pinned_to_a_commit_passes_soc2lint_s_own_rules(tmp_path):
    block = _readme().split("# .github/workflows/soc2lint.yml\n", 1)[1].split("```", 1)[0]
    assert "soc2lint/soc2lint@<commit-sha>" in block
    write(tmp_path, {".github/workflows/soc2lint.yml": block.replace("<commit-sha>", "a" * 40)})
    result = run_cli(["scan", ".github/workflows/soc2lint.yml", "-f", "json",
                      "--rule", "gha-actions-pinned-sha,gha-first-party-actions-pinned-sha,"
                      "gha-missing-permissions,gha-write-all-permissions"], tmp_path)
    assert result.exit_code == 0, result.stdout
    write(tmp_path, {".github/workflows/soc2lint.yml": block.replace("<commit-sha>", "v1")})
    assert run_cli(["scan", ".github/workflows/soc2lint.yml", "--rule", "gha-actions-pinned-sha"],
                   tmp_path).exit_code == 1
