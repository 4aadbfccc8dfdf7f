"""Nothing outside the scanned repository is read or named: symbolic links and local module
sources that lead out of it are refused with a notification, and the rest is scanned."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import db, git_init, run_cli, write

from soc2lint.evaluate.project import Project
from soc2lint.model import Notification
from soc2lint.parsers.cache import ParseCache

OUTSIDE = "symbolic link leads outside the repository: not followed"
MARK = "zqoutside"  # in every value and name written outside: no output may contain it
LEAVES_MODULE = ("module source leads outside the repository: not read, so the module's outputs "
                 "are unknown")
LOOP_MODULE = ("module source goes through a symbolic link loop: not read, so the module's "
               "outputs are unknown")
BROKEN = "broken symbolic link: its target does not exist"

OUTSIDE_FILES = {
    "leak.tf": f'locals {{\n  names = ["{MARK}local"]\n}}\n\n' + db(f"{MARK}leak"),
    "vals.tfvars": f'names = ["{MARK}value"]\n',
    "more.tfvars": f'names = ["{MARK}more"]\n',
    "mod/main.tf": db(f"{MARK}module"),
    "pod.yaml": f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {MARK}pod}}\nspec:\n  containers:\n"
                f"    - name: app\n      image: nginx\n      securityContext: {{privileged: true}}\n",
}

FOR_EACH_TF = '''\
variable "names" {
  type = list(string)
}

resource "aws_db_instance" "db" {
  for_each          = toset(var.names)
  engine            = "postgres"
  storage_encrypted = false
}
'''


def outside_tree(tmp_path: Path) -> Path:
    """A directory beside the repository, holding Terraform that must never be read."""
    return write(tmp_path / "elsewhere", OUTSIDE_FILES)


def repository(tmp_path: Path, files: dict[str, str], links: dict[str, str | Path]) -> Path:
    """A git repository with `files` and symbolic links (name -> target, as written)."""
    repo = tmp_path / "repo"
    git_init(repo)
    write(repo, files)
    for name, target in links.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, repo / name)
    return repo


def note(path: str, message: str = OUTSIDE, level: str = "warning", line: int | None = None) -> dict:
    return {"file": path, "line": line, "level": level, "message": message}


def scan_everything(tmp_path: Path, cwd: Path, *args: str) -> tuple[int, dict, dict[str, bytes]]:
    """Scan with every output format, and write the audit report: the exit code, the JSON
    report, and every output's bytes by name."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    files = {f: out / f"report.{f}" for f in ("json", "sarif", "text", "github", "summary")}
    formats = [a for f, path in files.items() for a in ("-f", f"{f}={path}")]
    result = run_cli(["scan", *args, *formats], cwd=cwd)
    blobs = {f: path.read_bytes() for f, path in files.items()}
    blobs["scan stdout and stderr"] = (result.stdout + result.stderr).encode()
    for fmt in ("markdown", "html", "json"):
        audit = run_cli(["report", *args, "-f", fmt], cwd=cwd)
        assert audit.exit_code in (0, 1, 3), audit.output
        blobs[f"audit {fmt}"] = (audit.stdout + audit.stderr).encode()
    return result.exit_code, json.loads(blobs["json"]), blobs


def assert_nothing_from(outside: Path, blobs: dict[str, bytes]) -> None:
    """No output names the outside directory or shows its content."""
    for name, blob in blobs.items():
        for secret in (str(outside), str(outside.resolve()), MARK):
            assert secret.encode() not in blob, f"{secret!r} in the {name} output"


def results(data: dict) -> set[tuple[str, str, int]]:
    return {(r["rule_id"], r["file"], r["line"]) for r in data["results"] if r["status"] == "fail"}


def test_a_linked_file_that_leaves_is_refused_by_the_directory_walk(tmp_path):
    outside = outside_tree(tmp_path)
    repo = repository(tmp_path, {"main.tf": db("inside"), "shared/real.tf": db("linked")},
                      {"leak.tf": outside / "leak.tf", "chain.tf": "hop.tf",
                       "hop.tf": outside / "leak.tf", "inside.tf": "shared/real.tf",
                       "k8s/pod.yaml": outside / "pod.yaml"})
    code, data, blobs = scan_everything(tmp_path, repo, ".", "--rule", "aws-rds-storage-encrypted",
                                        "--rule", "k8s-no-privileged")
    assert data["notifications"] == [note("chain.tf"), note("hop.tf"), note("k8s/pod.yaml"),
                                     note("leak.tf")]
    # the rest is scanned; a link that stays inside works as before (named by its target)
    assert results(data) == {("aws-rds-storage-encrypted", "main.tf", 3),
                             ("aws-rds-storage-encrypted", "shared/real.tf", 3)}
    assert code == 1
    assert_nothing_from(outside, blobs)


def test_a_link_named_on_the_command_line_is_refused(tmp_path):
    """pre-commit passes the link's own name; a sibling read as context is checked too."""
    outside = outside_tree(tmp_path)
    repo = repository(tmp_path, {"main.tf": db("inside")},
                      {"leak.tf": outside / "leak.tf", "linked": outside})
    code, data, blobs = scan_everything(tmp_path, repo, "leak.tf", "linked", "main.tf",
                                        "--rule", "aws-rds-storage-encrypted")
    assert data["notifications"] == [note("leak.tf"), note("linked")]
    assert results(data) == {("aws-rds-storage-encrypted", "main.tf", 3)}
    assert data["files"] == ["main.tf"] and code == 1
    assert_nothing_from(outside, blobs)
    code, data, blobs = scan_everything(tmp_path, repo, "main.tf", "--rule", "aws-rds-storage-encrypted")
    assert data["notifications"] == [note("leak.tf")]  # not read as the module's context either
    assert results(data) == {("aws-rds-storage-encrypted", "main.tf", 3)}
    assert_nothing_from(outside, blobs)


def test_a_link_to_etc_passwd_is_not_named_in_sarif(tmp_path):
    if not Path("/etc/passwd").is_file():
        pytest.skip("no /etc/passwd here")
    repo = repository(tmp_path, {"main.tf": db("inside")}, {"leak.tf": "/etc/passwd"})
    code, data, blobs = scan_everything(tmp_path, repo, ".", "--rule", "aws-rds-storage-encrypted")
    assert data["notifications"] == [note("leak.tf")]
    sarif = json.loads(blobs["sarif"])
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == ["leak.tf"]
    first_line = Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
    for name, blob in blobs.items():
        assert b"/etc/passwd" not in blob and first_line.encode() not in blob, name
    assert code == 1


@pytest.mark.parametrize("target", [".", "infra/main.tf"])
def test_variable_files_linked_from_outside_are_not_loaded(tmp_path, target):
    outside = outside_tree(tmp_path)
    repo = repository(
        tmp_path, {"infra/main.tf": FOR_EACH_TF, "shared/inside.auto.tfvars": 'names = ["kept"]\n'},
        {"infra/terraform.tfvars": "../shared/inside.auto.tfvars",  # loaded first
         "infra/prod.auto.tfvars": outside / "vals.tfvars",
         "infra/zz.auto.tfvars": outside / "more.tfvars"})
    code, data, blobs = scan_everything(tmp_path, repo, target, "--rule", "aws-rds-storage-encrypted")
    assert data["notifications"] == [note("infra/prod.auto.tfvars"), note("infra/zz.auto.tfvars")]
    # the variable file linked from inside the repository is still loaded, and nothing overrides it
    assert [r["message"].split("'")[1] for r in data["results"]] == ['aws_db_instance.db["kept"]']
    assert code == 1
    assert_nothing_from(outside, blobs)


MODULES_TF = '''\
module "up" {
  source = "../../elsewhere/mod"
}

module "through_link" {
  source = "./linked/mod"
}

module "chain" {
  source = "./chain/mod"
}

module "dotted" {
  source = "./../../elsewhere/mod"
}

module "inside" {
  source = "../modules/x"
}

module "inside_link" {
  source = "./to_modules/x"
}
'''


@pytest.mark.parametrize("target", [".", "infra/main.tf"])
def test_module_sources_that_leave_are_not_loaded(tmp_path, target):
    outside = outside_tree(tmp_path)
    repo = repository(tmp_path, {"infra/main.tf": MODULES_TF, "modules/x/main.tf": db("inner")},
                      {"infra/linked": outside, "infra/chain": "../hop", "hop": outside,
                       "infra/to_modules": "../modules"})
    code, data, blobs = scan_everything(tmp_path, repo, target, "--rule", "aws-rds-storage-encrypted")
    calls = [note("infra/main.tf", LEAVES_MODULE, line=line) for line in (1, 5, 9, 13)]
    walked = [note("hop"), note("infra/chain"), note("infra/linked"),
              note("modules", "symbolic link loop: directory already scanned through another path")
              ] if target == "." else []  # the last: the walk met modules/ through infra/to_modules
    assert data["notifications"] == sorted(walked + calls, key=lambda n: (n["file"], n["line"] or 0))
    # a source that stays inside is evaluated as before, directly or through a link inside
    assert sorted(r["message"].split("'")[1] for r in data["results"]) == [
        "module.inside.aws_db_instance.inner", "module.inside_link.aws_db_instance.inner"]
    assert code == 1
    assert_nothing_from(outside, blobs)


def test_a_module_source_through_a_link_loop_is_reported(tmp_path):
    repo = repository(tmp_path, {"infra/main.tf": 'module "loop" {\n  source = "./loop"\n}\n\n'
                                                  + db("inside")},
                      {"infra/loop": "loop"})
    result = run_cli(["scan", ".", "-f", "json", "--rule", "aws-rds-storage-encrypted"], cwd=repo)
    data = json.loads(result.stdout)
    assert data["notifications"] == [
        note("infra/loop", "symbolic link loop not followed"),
        note("infra/main.tf", LOOP_MODULE, line=1)]
    assert results(data) == {("aws-rds-storage-encrypted", "infra/main.tf", 7)}
    assert result.exit_code == 1


def test_links_named_like_terraform_files_get_a_clear_message(tmp_path):
    """`x.tf` may point at a directory or at nothing: the walk and the command line say which."""
    outside = outside_tree(tmp_path)
    repo = repository(tmp_path, {"main.tf": db("inside")},
                      {"dir.tf": outside, "missing.tf": "gone.tf",
                       "missing_outside.tf": outside / "gone.tf"})
    expected = [note("dir.tf"), note("missing.tf", BROKEN, "error"), note("missing_outside.tf")]
    code, data, blobs = scan_everything(tmp_path, repo, ".", "--rule", "aws-rds-storage-encrypted")
    assert data["notifications"] == expected
    assert results(data) == {("aws-rds-storage-encrypted", "main.tf", 3)} and code == 1
    assert_nothing_from(outside, blobs)
    code, data, blobs = scan_everything(tmp_path, repo, "dir.tf", "missing.tf", "missing_outside.tf",
                                        "main.tf", "--rule", "aws-rds-storage-encrypted")
    assert data["notifications"] == expected and code == 1
    assert_nothing_from(outside, blobs)


def test_without_git_the_working_directory_or_the_scanned_directory_is_the_repository(tmp_path):
    work = write(tmp_path / "work", {
        "proj/infra/main.tf": 'module "shared" {\n  source = "../../shared/mod"\n}\n',
        f"shared/mod/{MARK}.tf": db(f"{MARK}shared")})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    leaving = [note("infra/main.tf", LEAVES_MODULE, line=1)]
    # the working directory holds the scanned path: it is the repository
    result = run_cli(["scan", ".", "-f", "json", "--rule", "aws-rds-storage-encrypted"], cwd=work / "proj")
    assert json.loads(result.stdout)["notifications"] == leaving and MARK not in result.stdout
    result = run_cli(["scan", "proj", "-f", "json", "--rule", "aws-rds-storage-encrypted"], cwd=work)
    data = json.loads(result.stdout)
    assert results(data) == {("aws-rds-storage-encrypted", f"shared/mod/{MARK}.tf", 3)}  # inside here
    assert data["notifications"] == []
    # otherwise the scanned directory, or a named file's directory, is the repository
    result = run_cli(["scan", str(work / "proj"), "-f", "json", "--rule", "aws-rds-storage-encrypted"],
                     cwd=elsewhere)
    data = json.loads(result.stdout)
    assert [n["message"] for n in data["notifications"]] == [LEAVES_MODULE]
    assert data["notifications"][0]["line"] == 1 and MARK not in result.stdout
    result = run_cli(["scan", str(work / "proj" / "infra" / "main.tf"), "-f", "json"], cwd=elsewhere)
    assert [n["message"] for n in json.loads(result.stdout)["notifications"]] == [LEAVES_MODULE]
    assert MARK not in result.stdout


def test_an_absolute_module_source_is_outside_unless_it_resolves_inside(tmp_path, monkeypatch):
    outside = outside_tree(tmp_path)
    repo = repository(tmp_path, {"infra/main.tf": db("inside"), "modules/x/main.tf": db("inner")}, {})
    monkeypatch.chdir(repo)
    project = Project(cache=ParseCache(None))
    caller = project.module(repo / "infra")
    assert project.module_for_call(caller, str(outside / "mod"), "infra/main.tf", 4) is None
    inside = project.module_for_call(caller, str(repo / "modules" / "x"), "infra/main.tf", 8)
    assert inside is not None and inside.directory == "modules/x"
    assert project.notifications == [Notification("infra/main.tf", LEAVES_MODULE, "warning", 4)]


def test_pull_request_mode_reads_no_ignore_through_a_link_that_leaves(tmp_path):
    """The list of exemption changes reads changed files too: not through a link out."""
    from helpers import commit

    outside = outside_tree(tmp_path)
    (outside / "ignored.tf").write_text(
        f"# soc2lint:ignore aws-rds-storage-encrypted -- {MARK}justification\n" + db("x"))
    repo = repository(tmp_path, {"main.tf": db("ok", "true")}, {})
    commit(repo, "base")
    os.symlink(outside / "ignored.tf", repo / "evil.tf")
    commit(repo, "a link out")
    summary = tmp_path / "summary.md"
    result = run_cli(["scan", ".", "--diff-base", "HEAD~1", "-f", "json", "-f", f"summary={summary}"],
                     cwd=repo)
    data = json.loads(result.stdout)
    blobs = {"json": result.stdout.encode(), "summary": summary.read_bytes()}
    assert data["diff"]["exemption_changes"] == []
    assert note("evil.tf") in data["notifications"]
    assert_nothing_from(outside, blobs)


@pytest.mark.parametrize(("setting", "key"), [
    ("rules_dirs: [../elsewhere]", "rules_dirs[0]"),
    ("baseline: ../elsewhere/main.tf", "baseline"),
    ("terraform:\n  var_files: [linked.tfvars]", "terraform.var_files[0]"),
    ("terraform:\n  environments:\n    prod: {var_files: [{file: ../elsewhere/x.tfvars}]}",
     "terraform.environments.prod.var_files[0]"),
])
def test_paths_in_the_repository_configuration_stay_inside(tmp_path, setting, key):
    outside = outside_tree(tmp_path)
    (outside / "x.tfvars").write_text(f'names = ["{MARK}"]\n')
    repo = repository(tmp_path, {"main.tf": db("ok", "true"), ".soc2lint.yaml": setting + "\n"},
                      {"linked.tfvars": outside / "x.tfvars"})
    result = run_cli(["scan", ".", "--environment", "prod"] if "prod" in setting else ["scan", "."],
                     cwd=repo)
    assert result.exit_code == 2
    assert f".soc2lint.yaml: {key}: the path leads outside the repository" in result.stderr
    assert MARK not in result.output


def test_a_configuration_of_the_users_own_may_name_paths_anywhere(tmp_path):
    outside = outside_tree(tmp_path)
    (outside / "x.tfvars").write_text("names = []\n")
    config = write(tmp_path / "mine", {"soc2lint.yaml": f"terraform:\n  var_files: [{outside}/x.tfvars]\n"})
    repo = repository(tmp_path, {"main.tf": db("ok", "true")}, {})
    result = run_cli(["scan", ".", "--config", str(config / "soc2lint.yaml"), "--rule",
                      "aws-rds-storage-encrypted"], cwd=repo)
    assert result.exit_code == 0, result.output


def test_git_never_uses_a_repository_committed_in_the_scanned_files(tmp_path):
    """A bare repository committed under the scanned path, whose configuration would run a
    command (core.fsmonitor) and fake the change, is never asked: git runs on the real one."""
    from helpers import commit, git

    marker = tmp_path / "ran"
    repo = repository(tmp_path, {"infra/main.tf": db("ok", "true")}, {})
    git(repo, "checkout", "-q", "-b", "main")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"infra/main.tf": db("bad"), "infra/HEAD": "ref: refs/heads/main\n",
                 "infra/config": f"[core]\n\tbare = false\n\tworktree = .\n\tfsmonitor = \"echo x >> "
                                 f"{marker}; false\"\n",
                 "infra/objects/info/alternates": "../../.git/objects\n", "infra/refs/heads/keep": "",
                 "infra/ok.tf": "# soc2lint:ignore aws-rds-storage-encrypted -- test\n" + db("i")})
    commit(repo, "a change with a planted repository")
    changed = run_cli(["scan", "infra", "--diff-base", "main", "-f", "json"], cwd=repo)
    assert changed.exit_code == 1, changed.output
    data = json.loads(changed.stdout)
    assert ("aws-rds-storage-encrypted", "infra/main.tf", 3) in results(data)  # the real change
    report = run_cli(["report", "infra", "-f", "json"], cwd=repo)
    assert report.exit_code == 0 and json.loads(report.stdout)["scope"]["commit"]
    assert not marker.exists()


@pytest.mark.parametrize("link", [".soc2lint.yaml", "pyproject.toml", "policies/x-secret.yaml"])
def test_configuration_and_rule_files_linked_from_outside_are_not_read(tmp_path, link):
    outside = outside_tree(tmp_path)
    (outside / "secret.yaml").write_text(f"{MARK}_key: {MARK}value\n[tool.soc2lint]\n")
    files = {"main.tf": db("ok", "true")}
    if link.startswith("policies/"):
        files[".soc2lint.yaml"] = "rules_dirs: [policies]\n"
    repo = repository(tmp_path, files, {link: outside / "secret.yaml"})
    result = run_cli(["scan", ".", "-f", "json"], cwd=repo)
    assert result.exit_code == 2
    assert "leads outside the repository" in result.stderr and link in result.stderr
    assert MARK not in result.output and str(outside) not in result.output
