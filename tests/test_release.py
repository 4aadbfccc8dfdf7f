"""The release workflow and .ci/release-build: schema-valid, pinned, least-privilege, clean under
soc2lint's own rules and zizmor; the script builds, checks, installs and runs the distributions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from helpers import BUCKET_TF, run_cli, write

from soc2lint import __version__

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
SCRIPT = ROOT / ".ci" / "release-build"
LOCK = ROOT / "requirements" / "release.txt"
BIN = Path(sys.executable).parent
PIN = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(job: str) -> list[dict]:
    return _workflow()["jobs"][job]["steps"]


def _tool(name: str) -> Path:
    exe = BIN / name
    if not exe.exists():
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return exe


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the workflow with `old` replaced by `new` (which must be there)."""
    text = WORKFLOW.read_text()
    assert old in text
    return write(tmp_path / ".github" / "workflows", {"release.yml": text.replace(old, new)}) / "release.yml"


def test_workflow_validates_against_github_schema():
    result = subprocess.run([str(_tool("check-jsonschema")), "--builtin-schema", "vendor.github-workflows",
                             str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _own_rules(path: Path, cwd: Path, *args: str) -> dict[str, list[str]]:
    data = json.loads(run_cli(["scan", str(path.relative_to(cwd)), "-f", "json", *args], cwd).stdout)
    assert data["frameworks"] == ["github-actions"]
    outcomes: dict[str, list[str]] = {}
    for result in data["results"]:
        outcomes.setdefault(result["rule_id"], []).append(result["outcome"])
    return outcomes


def test_workflow_passes_its_own_workflow_rules(tmp_path):
    outcomes = _own_rules(WORKFLOW, ROOT)
    for rule in ("gha-actions-pinned-sha", "gha-missing-permissions", "gha-script-injection",
                 "gha-write-all-permissions"):
        assert rule in outcomes, (rule, outcomes)
    assert all(set(found) == {"pass"} for found in outcomes.values()), outcomes
    # the rule for actions/* pins, off by default, passes on each of the four
    first_party = _own_rules(WORKFLOW, ROOT, "--rule", "gha-first-party-actions-pinned-sha")
    assert first_party == {"gha-first-party-actions-pinned-sha": ["pass"] * 4}
    # the same scan sees the publish action unpinned
    unpinned = _variant(tmp_path, "gh-action-pypi-publish@dc37677b2e1c63e2034f94d8a5b11f265b73ba33",
                        "gh-action-pypi-publish@release/v1")
    assert _own_rules(unpinned, tmp_path)["gha-actions-pinned-sha"] == ["fail"]


def _zizmor(path: Path) -> list:
    result = subprocess.run([str(_tool("zizmor")), "--offline", "--persona", "auditor", "--format", "json",
                             str(path)], capture_output=True, text=True)
    assert result.returncode in (0, 10, 11, 12, 13, 14), result.stderr
    return json.loads(result.stdout)


def test_workflow_passes_zizmor(tmp_path):
    """zizmor's audits (offline, auditor persona: its most thorough) find nothing; a copy that
    keeps the checkout's credentials is reported, so the audit did read the file."""
    assert _zizmor(WORKFLOW) == []
    leaky = _variant(tmp_path, "persist-credentials: false", "persist-credentials: true")
    assert "artipacked" in {finding["ident"] for finding in _zizmor(leaky)}


def test_tag_trigger_and_least_privilege():
    workflow = _workflow()
    assert workflow[True] == {"push": {"tags": ["v*.*.*"]}}  # YAML reads `on` as true
    assert workflow["permissions"] == {}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert set(workflow["jobs"]) == {"build", "publish"}
    assert build["permissions"] == {"contents": "read"}
    assert "environment" not in build
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"] == {"name": "pypi", "url": "https://pypi.org/p/soc2lint"}


def test_every_action_is_pinned_to_a_commit_with_its_version():
    uses = [line for line in WORKFLOW.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]
    pinned = [PIN.match(line) for line in uses]
    assert all(pinned), [line for line, match in zip(uses, pinned, strict=True) if not match]
    assert [m[1] for m in pinned] == ["actions/checkout", "actions/setup-python", "actions/upload-artifact",
                                      "actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683" not in WORKFLOW.read_text()


def test_build_job_runs_the_script_from_the_locked_tools():
    steps = _steps("build")
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[0]["with"]["persist-credentials"] is False
    assert steps[1]["uses"].startswith("actions/setup-python@") and "cache" not in steps[1]["with"]
    runs = [step.get("run", "") for step in steps]
    install = next(i for i, run in enumerate(runs) if "pip install" in run)
    script = next(i for i, run in enumerate(runs) if ".ci/release-build" in run)
    assert "--require-hashes -r requirements/release.txt" in runs[install]
    assert install < script
    assert runs[script].strip() == 'RELEASE_TAG="$GITHUB_REF_NAME" .ci/release-build dist'
    assert os.access(SCRIPT, os.X_OK) and SCRIPT.read_text().startswith("#!/usr/bin/env bash\n")
    upload = steps[-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"] == {"name": "dist", "path": "dist/", "if-no-files-found": "error"}
    for job in ("build", "publish"):
        for step in _steps(job):
            assert "${{" not in step.get("run", ""), f"{job}: values reach scripts through env"


def test_publish_job_only_downloads_and_publishes():
    download, publish = _steps("publish")
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"] == {"name": "dist", "path": "dist/"}
    assert publish["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish  # trusted publishing: no password or token
    assert "secrets." not in WORKFLOW.read_text()


def test_release_lock_pins_the_build_tools_with_hashes():
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    text = LOCK.read_text()
    assert text.startswith("# This file was autogenerated by uv via the following command:\n"
                           "#    uv pip compile requirements/release.in --universal --generate-hashes "
                           "--python-version 3.10 -o requirements/release.txt\n")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+", entry), entry
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    locked = {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", text, re.M)}
    assert {"build", "twine", "hatchling"} <= set(locked)
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for spec in map(Requirement, backend):
        assert spec.specifier.contains(locked[spec.name.lower()]), (spec, locked[spec.name.lower()])


def _script_env(venv: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "RELEASE_TAG")}
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def test_a_tag_that_is_not_the_version_stops_before_building(tmp_path):
    """The version check comes first, before the build tools are even looked for."""
    demo = write(tmp_path / "demo", {"main.tf": BUCKET_TF})
    out = tmp_path / "dist"
    env = dict(_script_env(None), RELEASE_TAG=f"v{__version__}.1", PYTHON=sys.executable)
    result = subprocess.run([str(SCRIPT), str(out), str(demo)], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"the tag 'v{__version__}.1' is not v{__version__}" in result.stderr
    assert list(out.iterdir()) == []
    result = subprocess.run([str(SCRIPT), str(out), str(demo)], env=dict(env, RELEASE_TAG=""),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "the tag '' is not" in result.stderr


def test_the_output_directory_must_be_empty(tmp_path):
    out = write(tmp_path / "dist", {"soc2lint-0.0.1.tar.gz": "old"})
    result = subprocess.run([str(SCRIPT), str(out), str(tmp_path)], env=_script_env(None),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "is not empty" in result.stderr


@pytest.fixture(scope="module")
def release_tools(tmp_path_factory, index_reachable) -> Path:
    """A virtual environment holding requirements/release.txt, installed with --require-hashes."""
    venv = tmp_path_factory.mktemp("release-tools") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check", "--require-hashes", "-r", str(LOCK)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if not p.is_symlink()}


def test_release_build_builds_checks_installs_and_scans(tmp_path, release_tools):
    """The script, run from a copy of the checkout (the copy is left as it was), into tmp_path:
    an sdist and a wheel holding the bundled rules, checked, installed and run."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".ci-venv", ".ci-node", "__pycache__", ".ruff_cache", ".pytest_cache", "dist",
        "build", "*.egg-info"))
    args = [str(checkout / ".ci" / "release-build"), str(tmp_path / "dist")]
    if not (checkout / "fixtures" / "demo").is_dir():  # the default demo project is not there yet
        args.append(str(write(tmp_path / "demo", {"infra/main.tf": BUCKET_TF})))
    before = _tree(checkout)
    env = dict(_script_env(release_tools), RELEASE_TAG=f"v{__version__}")
    result = subprocess.run(args, cwd=checkout, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"== release build of soc2lint {__version__}: OK" in result.stdout
    assert "expected exit code 1" in result.stdout and "failures by severity" in result.stdout
    assert _tree(checkout) == before, "the script wrote into the checkout"

    dist = tmp_path / "dist"
    sdist, wheel = dist / f"soc2lint-{__version__}.tar.gz", dist / f"soc2lint-{__version__}-py3-none-any.whl"
    assert sorted(dist.iterdir()) == sorted([sdist, wheel])
    rules = sorted(str(p.relative_to(ROOT / "rules")) for p in (ROOT / "rules").rglob("*.yaml"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    bundled = sorted(n.removeprefix("soc2lint/_bundled_rules/") for n in names
                     if n.startswith("soc2lint/_bundled_rules/") and n.endswith(".yaml"))
    assert bundled == rules and len(rules) > 100
    assert "soc2lint/cli.py" in names
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)
    with tarfile.open(sdist) as archive:
        members = set(archive.getnames())
    assert f"soc2lint-{__version__}/pyproject.toml" in members
    assert f"soc2lint-{__version__}/rules/{rules[0]}" in members
