"""The composite GitHub Action: schema-valid, pinned, injection-free, and its shell steps work when
run locally with the GitHub variables pointing at temporary files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from helpers import BUCKET_TF, commit, git, git_init, run_cli, write

from soc2lint import __version__

ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent
RDS = "aws-rds-storage-encrypted"


def _action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def _step(name: str) -> dict:
    return next(s for s in _action()["runs"]["steps"] if s["name"] == name)


def test_action_validates_against_github_schema():
    exe = BIN / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.github-actions", str(ACTION)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_passes_its_own_workflow_rules():
    data = json.loads(run_cli(["scan", "action.yml", "-f", "json"], ROOT).stdout)
    assert data["frameworks"] == ["github-actions"]
    assert "gha-script-injection" in {r["rule_id"] for r in data["results"]}
    assert [r for r in data["results"] if r["outcome"] != "pass"] == []


def test_action_passes_zizmor():
    """zizmor's audits (offline, auditor persona: its most thorough) find nothing."""
    exe = BIN / "zizmor"
    if not exe.exists():
        pytest.skip("zizmor is not installed (pip install -e '.[test]')")
    result = subprocess.run([str(exe), "--offline", "--persona", "auditor", "--format", "json",
                             str(ACTION)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_inputs_outputs_and_script_hygiene():
    action = _action()
    assert {"paths", "version", "sarif-file", "category", "upload-sarif", "fail-on", "baseline",
            "config", "config-from-base", "pull-request-scope"} <= set(action["inputs"])
    assert {"sarif-file", "findings"} <= set(action["outputs"])
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], f"{step['name']}: inputs reach scripts via env"
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    # every input the scan needs reaches it through env
    scan_env = _step("Scan")["env"]
    for name in ("paths", "sarif-file", "category", "fail-on", "baseline", "config",
                 "config-from-base", "pull-request-scope"):
        assert f"inputs.{name} }}}}" in " ".join(scan_env.values()), name
    assert _step("Install soc2lint")["env"]["ACTION_PATH"] == "${{ github.action_path }}"


def test_upload_runs_after_findings_and_before_the_job_fails():
    names = [s["name"] for s in _action()["runs"]["steps"]]
    assert names.index("Scan") < names.index("Upload SARIF to code scanning") < names.index(
        "Fail on findings")
    upload = _step("Upload SARIF to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["category"] == "${{ inputs.category }}"
    assert "!cancelled()" in upload["if"] and "!github.event.pull_request.head.repo.fork" in upload["if"]
    skipped = _step("Explain a skipped upload")
    assert "github.event.pull_request.head.repo.fork" in skipped["if"]
    assert "cannot write" in skipped["run"]
    assert "!cancelled()" in _step("Fail on findings")["if"]


@pytest.fixture
def runner(tmp_path) -> dict:
    """RUNNER_TEMP holding this interpreter's virtual environment as the action's, and the GitHub
    files."""
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    os.symlink(sys.prefix, runner_temp / "soc2lint-venv")
    return {"RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/infra",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}


def _inputs(**given: str) -> dict:
    """The Scan step's env as GitHub would set it from the inputs' defaults and `given`."""
    defaults = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}
    values = {**defaults, **{k.replace("_", "-"): v for k, v in given.items()}}
    names = {"SCAN_PATHS": "paths", "SARIF_FILE": "sarif-file", "CATEGORY": "category",
             "FAIL_ON": "fail-on", "BASELINE": "baseline", "CONFIG": "config",
             "CONFIG_FROM_BASE": "config-from-base", "PR_SCOPE": "pull-request-scope"}
    return {env: values[name] for env, name in names.items()}


def _run_scan_step(repo: Path, runner: dict, event: str = "push", base: str = "", **given: str):
    env = dict(os.environ, **runner, **_inputs(**given), EVENT_NAME=event, BASE_SHA=base)
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                             _step("Scan")["run"]], cwd=repo, env=env, capture_output=True, text=True)
    output = Path(runner["GITHUB_OUTPUT"])
    summary = Path(runner["GITHUB_STEP_SUMMARY"])
    return (result, _outputs(output.read_text()) if output.exists() else {},
            summary.read_text() if summary.exists() else "")


def _outputs(text: str) -> dict[str, str]:
    """Parse `name<<DELIMITER` blocks as the runner does."""
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        assert re.fullmatch(r"soc2lint_[0-9a-f]{32}", delimiter)
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        outputs[name] = "\n".join(value)
    return outputs


def test_push_scan_writes_outputs_summary_annotations_and_sarif(tmp_path, runner):
    repo = write(tmp_path / "repo", {"infra/db.tf": BUCKET_TF, "k8s/app.yaml": "a: 1\n"})
    result, outputs, summary = _run_scan_step(repo, runner, paths="infra\nk8s",
                                              category="soc2lint/infra")
    assert result.returncode == 0, result.stderr
    [report] = Path(runner["RUNNER_TEMP"]).glob("soc2lint.*/report.json")
    data = json.loads(report.read_text())
    assert outputs["exit-code"] == "1"
    assert outputs["findings"] == str(data["summary"]["outcomes"]["fail"]) != "0"
    assert outputs["sarif-file"] == "soc2lint.sarif"
    sarif = json.loads((repo / "soc2lint.sarif").read_text())
    assert sarif["runs"][0]["automationDetails"]["id"] == "soc2lint/infra"
    assert re.search(rf"^::error file=infra/db\.tf,line=4,.*title={RDS} \(high\)::", result.stdout,
                     re.M), result.stdout
    assert summary.startswith("## soc2lint: ")
    assert f"`{RDS}`" in summary and "| CC6.1 |" in summary
    assert "(https://github.com/acme/infra/blob/0123456789abcdef0123456789abcdef01234567/infra/db.tf#L4)" \
        in summary
    assert "Changes that could exempt code" not in summary  # not a pull request


def test_fail_on_input_and_clean_scan(tmp_path, runner):
    repo = write(tmp_path / "repo", {"main.tf": BUCKET_TF})
    _, outputs, _ = _run_scan_step(repo, runner, fail_on="critical")
    assert outputs["exit-code"] == "0" and outputs["findings"] != "0"
    clean = write(tmp_path / "clean", {"k8s/readme.yaml": "a: 1\n", ".github/CODEOWNERS": "* @acme\n"})
    Path(runner["GITHUB_OUTPUT"]).unlink()
    _, outputs, summary = _run_scan_step(clean, runner)
    assert outputs["exit-code"] == "0" and outputs["findings"] == "0"
    assert "## soc2lint: no failing checks" in summary


def test_scan_step_stops_on_usage_errors(tmp_path, runner):
    repo = write(tmp_path / "repo", {"main.tf": BUCKET_TF})
    result, outputs, _ = _run_scan_step(repo, runner, fail_on="severe")
    assert result.returncode == 2 and outputs == {}
    assert re.search(r"^::error title=soc2lint::the scan could not start \(exit code 2\): .*"
                     r"'severe' is not one of", result.stdout, re.M), result.stdout
    result, outputs, _ = _run_scan_step(repo, runner, config="missing.yaml")
    assert result.returncode == 2 and outputs == {}
    assert "missing.yaml%3A configuration file not found" not in result.stdout  # message, not property
    assert "missing.yaml: configuration file not found" in result.stdout


def test_a_second_run_never_reports_the_first_runs_results(tmp_path, runner):
    repo = write(tmp_path / "repo", {"main.tf": BUCKET_TF})
    _, outputs, _ = _run_scan_step(repo, runner)
    assert outputs["exit-code"] == "1"
    Path(runner["GITHUB_OUTPUT"]).unlink()
    result, outputs, _ = _run_scan_step(repo, runner, config="missing.yaml")
    assert result.returncode == 2 and outputs == {}


@pytest.fixture
def pull_request(tmp_path) -> tuple[Path, str]:
    """A repository whose feature branch adds a failing database, an inline ignore and a config
    change that disables the rule; returns the checkout and the base commit."""
    repo = tmp_path / "repo"
    write(repo, {"infra/db.tf": BUCKET_TF, "infra/ok.tf": 'resource "aws_ebs_volume" "v" {\n'
                 '  availability_zone = "a"\n  size = 1\n  encrypted = true\n}\n',
                 ".soc2lint.yaml": "fail_on: high\n", ".github/CODEOWNERS": "* @acme/platform\n"})
    git_init(repo)
    base = commit(repo, "base")
    write(repo, {"infra/new.tf": 'resource "aws_db_instance" "new" {\n  engine = "postgres"\n'
                 '  storage_encrypted = false\n}\n\n# soc2lint:ignore ' + RDS + ' -- replica of public'
                 ' data\nresource "aws_db_instance" "replica" {\n  engine = "postgres"\n'
                 '  storage_encrypted = false\n}\n',
                 ".soc2lint.yaml": f"fail_on: high\ndisable: [{RDS}]\n"})
    commit(repo, "feature")
    return repo, base


def test_pull_request_annotates_the_change_and_lists_exemptions(pull_request, runner):
    repo, base = pull_request
    result, outputs, summary = _run_scan_step(repo, runner, event="pull_request", base=base,
                                              config_from_base="true")
    assert result.returncode == 0, result.stderr
    annotated = re.findall(r"^::error file=([^,]+),line=(\d+)", result.stdout, re.M)
    assert ("infra/new.tf", "3") in annotated
    assert all(path == "infra/new.tf" for path, _ in annotated), annotated  # the change only
    assert outputs["exit-code"] == "1"  # the base config still runs the rule the change disables
    assert "Configuration and baseline read as of" in summary
    assert "### Changes that could exempt code" in summary
    assert "inline ignore added | [infra/new.tf:6](" in summary
    assert f'+disable: ["{RDS}"]' in summary
    # the SARIF for code scanning holds the whole scan, unchanged files too
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads((repo / "soc2lint.sarif").read_text())["runs"][0]["results"]}
    assert uris == {"infra/db.tf", "infra/new.tf"}


def test_pull_request_with_its_own_config_and_changed_lines(pull_request, runner):
    repo, base = pull_request
    result, outputs, summary = _run_scan_step(repo, runner, event="pull_request", base=base,
                                              pull_request_scope="changed-lines")
    assert RDS not in re.findall(r"title=([\w-]+)", result.stdout)  # disabled by the change...
    assert f'+disable: ["{RDS}"]' in summary  # ...and shown to the reviewer
    assert "findings on changed lines" in summary
    assert outputs["exit-code"] in ("0", "1")
    result, _, _ = _run_scan_step(repo, runner, event="pull_request", base=base,
                                  pull_request_scope="everything")
    assert result.returncode == 2 and "pull-request-scope must be" in result.stdout


def test_shallow_pull_request_checkout_fetches_the_base(pull_request, runner, tmp_path):
    repo, base = pull_request
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", f"file://{repo}", str(clone)], check=True)
    with pytest.raises(subprocess.CalledProcessError):
        git(clone, "cat-file", "-e", f"{base}^{{commit}}")
    result, outputs, summary = _run_scan_step(clone, runner, event="pull_request", base=base)
    assert result.returncode == 0, result.stderr
    assert "findings in changed files since" in summary and outputs["exit-code"] in ("0", "1")
    assert "infra/db.tf" not in re.findall(r"file=([^,]+)", result.stdout)


def test_an_unreachable_base_commit_falls_back_to_the_full_scan(pull_request, runner):
    repo, _ = pull_request
    result, outputs, summary = _run_scan_step(repo, runner, event="pull_request", base="0" * 40)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^::warning title=soc2lint::the base commit 0{40} could not be fetched", result.stdout,
                     re.M)
    assert outputs["exit-code"] == "1" and (repo / "soc2lint.sarif").exists()
    assert "Pull request view" not in summary


def _planted(repo: Path, markers: Path, names: list[str]) -> None:
    """Python modules at the repository root that leave a marker file when imported, as a hostile
    pull request would plant them (the scan and install steps run with the checkout as their
    working directory)."""
    markers.mkdir(exist_ok=True)
    for name in names:
        code = (f"open({str(markers / name.split('/')[0].removesuffix('.py'))!r}, 'w').write('ran')\n"
                "raise SystemExit(0)\n")
        write(repo, {name: code})


PLANTED_FOR_SCAN = ["secrets.py", "json.py", "soc2lint/__init__.py", "click.py", "yaml.py",
                    "sitecustomize.py", "usercustomize.py"]


def test_modules_planted_in_the_checkout_never_run_in_the_scan_step(tmp_path, runner):
    repo = write(tmp_path / "repo", {"infra/db.tf": BUCKET_TF})
    markers = tmp_path / "markers"
    _planted(repo, markers, PLANTED_FOR_SCAN)
    result, outputs, summary = _run_scan_step(repo, runner, fail_on="critical")
    assert list(markers.iterdir()) == [], result.stdout + result.stderr
    assert result.returncode == 0, result.stderr
    [report] = Path(runner["RUNNER_TEMP"]).glob("soc2lint.*/report.json")
    assert outputs["findings"] == str(json.loads(report.read_text())["summary"]["outcomes"]["fail"])
    assert outputs["exit-code"] == "0" and outputs["findings"] != "0"
    assert "## soc2lint:" in summary


def test_the_printed_report_cannot_issue_workflow_commands(tmp_path, runner):
    """The text report quotes file names; the runner executes no command while it is printed."""
    name = "x\n::error::forged.tf"
    repo = write(tmp_path / "repo", {"main.tf": BUCKET_TF})
    (repo / name).write_text(BUCKET_TF)
    result, _, _ = _run_scan_step(repo, runner)
    lines = result.stdout.splitlines()
    stop = [i for i, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert len(stop) == 1, result.stdout
    token = lines[stop[0]].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    resume = lines.index(f"::{token}::")
    assert "Summary" in "\n".join(lines[stop[0]:resume])  # the text report is inside
    outside = lines[:stop[0]] + lines[resume + 1:]
    assert all(line.startswith(("::error ", "::warning ", "::notice ", "soc2lint: ")) or
               not line.startswith("::") for line in outside), outside
    assert not any("forged" in line for line in outside if line.startswith("::error::"))


def test_install_step_installs_the_action_checkout(tmp_path, index_reachable):
    """From the hash-pinned lock, with every Python isolated from the checkout it runs in."""
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    repo = write(tmp_path / "repo", {"main.tf": BUCKET_TF})
    markers = tmp_path / "markers"
    _planted(repo, markers, ["venv.py", "ensurepip.py", "pip.py", "sys.py", "secrets.py",
                             "soc2lint/__init__.py", "hatchling/__init__.py", "sitecustomize.py"])
    env = dict(os.environ, RUNNER_TEMP=str(runner_temp), ACTION_PATH=str(ROOT), SOC2LINT_VERSION="")
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                             _step("Install soc2lint")["run"]], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(__version__)
    assert list(markers.iterdir()) == []
    venv_python = runner_temp / "soc2lint-venv" / "bin" / "python"
    frozen = subprocess.run([str(venv_python), "-I", "-m", "pip", "freeze", "--all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    locked = _locked(ROOT / "requirements" / "action.txt")
    installed = dict(line.split("==", 1) for line in frozen.splitlines() if "==" in line)
    for name, version in installed.items():
        if name.lower() not in ("soc2lint", "pip"):
            assert version in locked.get(name.lower().replace("_", "-"), ()), (name, version)


def _locked(path: Path) -> dict[str, set[str]]:
    """Package name -> the versions the lock pins (a package may be pinned per Python version)."""
    found: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", line)
        if match:
            found.setdefault(match[1].lower().replace("_", "-"), set()).add(match[2])
    return found


def test_the_install_lock_pins_every_dependency_with_hashes():
    """requirements/action.txt covers pyproject's dependencies and build backend, each pinned to
    one version with its hashes, so the Action's `pip install --require-hashes` cannot drift."""
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lock = (ROOT / "requirements" / "action.txt").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+", entry), entry
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    locked = _locked(ROOT / "requirements" / "action.txt")
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    for spec in map(Requirement, wanted):
        versions = locked.get(spec.name.lower().replace("_", "-"))
        assert versions, f"{spec.name} is not in requirements/action.txt"
        assert all(spec.specifier.contains(v, prereleases=True) for v in versions), (spec, versions)
    install = _step("Install soc2lint")["run"]
    assert "--require-hashes" in install and "--no-build-isolation --no-index" in install


def test_readme_workflow_validates(tmp_path):
    exe = BIN / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    readme = (ROOT / "README.md").read_text()
    block = readme.split("# .github/workflows/soc2lint.yml\n", 1)[1].split("```", 1)[0]
    workflow = tmp_path / "soc2lint.yml"
    workflow.write_text(block)
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows",
                             str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    parsed = yaml.safe_load(block)
    assert parsed[True]["push"]["branches"] and "pull_request" in parsed[True]
    assert parsed["jobs"]["soc2lint"]["permissions"]["security-events"] == "write"
    for step in parsed["jobs"]["soc2lint"]["steps"]:
        assert re.search(r"@[0-9a-f]{40}$", step["uses"]) or step["uses"].startswith("soc2lint/")
