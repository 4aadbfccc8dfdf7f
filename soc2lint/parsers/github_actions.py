"""GitHub Actions workflows and actions -> workflow, job, step and action entities.

A job or step whose `if:` is literally false (`false`, `"false"`, `${{ false }}`) never runs, so
it makes no entity (a job's steps neither); any other condition, even one that is always false in
practice, is judged as if it ran.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Entity, Span
from ..secrets import SecretHit, find_in_text, find_secrets, without_credentials
from .gha_expressions import untrusted_in
from .yamlspans import Document, YamlLocator, item_span

FRAMEWORK = "github-actions"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_FIRST_PARTY = ("actions", "github")
_LITERALLY_FALSE = re.compile(r"\s*(?:false|\$\{\{\s*false\s*\}\})\s*")


def is_workflow(data: Any) -> bool:
    return isinstance(data, dict) and "on" in data and isinstance(data.get("jobs"), dict)


def is_action(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("runs"), dict)


def parse_uses(uses: str) -> dict[str, Any]:
    """Split a `uses:` value into its parts; `ref_is_sha` only for a full 40-hex commit SHA."""
    uses = uses.strip()
    if uses.startswith("./") or uses.startswith("../"):
        return {"kind": "local", "action": uses, "ref_is_sha": True, "first_party": True}
    if uses.startswith("docker://"):
        image = without_credentials(uses)[len("docker://"):]
        return {"kind": "docker", "action": image, "ref": image.partition("@")[2] or None,
                "ref_is_sha": "@sha256:" in image, "first_party": False}
    target, _, ref = uses.partition("@")
    parts = target.split("/")
    owner, repo = parts[0], parts[1] if len(parts) > 1 else ""
    path = "/".join(parts[2:]) or None
    return {
        "kind": "workflow" if path and re.search(r"\.ya?ml$", path) else "action",
        "owner": owner, "repo": repo, "path": path, "ref": ref or None,
        "ref_is_sha": bool(_SHA.match(ref)), "first_party": owner.lower() in _FIRST_PARTY,
        "action": f"{owner}/{repo}" + (f"/{path}" if path else ""),
    }


def never_runs(block: dict) -> bool:
    """Whether a job's or step's `if:` is the literal false."""
    condition = block.get("if")
    return condition is False or (isinstance(condition, str)
                                  and _LITERALLY_FALSE.fullmatch(condition) is not None)


def triggers(on: Any) -> list[str]:
    if isinstance(on, str):
        return [on]
    if isinstance(on, list):
        return [str(t) for t in on]
    if isinstance(on, dict):
        return [str(t) for t in on]
    return []


def parse(path: str, documents: list[Document]) -> list[Entity]:
    entities: list[Entity] = []
    for doc in documents:
        if is_workflow(doc.data):
            entities.extend(_workflow(path, doc.data))
        elif is_action(doc.data):
            entities.extend(_action(path, doc.data))
    return entities


def _workflow(path: str, wf: dict) -> list[Entity]:
    events = triggers(wf.get("on"))
    name = str(wf.get("name") or path.rsplit("/", 1)[-1])
    root_span = getattr(wf, "span", None) or Span(1)
    wf_data = dict(wf, triggers=events)
    wf_extra: dict = {("triggers",): ("on",)}
    _with_credentials(wf_data, wf_extra, credentials(wf, ()))
    entities = [Entity(FRAMEWORK, "workflow", "workflow", "workflow", path, root_span, wf_data,
                       YamlLocator(wf, (), wf_extra), f"workflow '{name}'")]
    env_taint = _tainted_env(wf.get("env"), frozenset())
    for job_id, job in wf["jobs"].items():
        if not isinstance(job, dict) or never_runs(job):
            continue
        job_path = ("jobs", job_id)
        data = dict(_shown(job), triggers=events)
        extra: dict = {("triggers",): ("on",)}
        if "permissions" in job:
            source, perms, origin = "job", job["permissions"], (*job_path, "permissions")
        elif "permissions" in wf:
            source, perms, origin = "workflow", wf["permissions"], ("permissions",)
        else:
            source, perms, origin = "none", None, job_path
        data.update(permissions_source=source, effective_permissions=perms,
                    write_all=perms == "write-all")
        for key in ("permissions_source", "effective_permissions", "write_all"):
            extra[(key,)] = origin
        if isinstance(job.get("uses"), str):
            data["uses_ref"] = parse_uses(job["uses"])
            extra[("uses_ref",)] = (*job_path, "uses")
        _with_credentials(data, extra, credentials(job, job_path))
        label = f"job '{job_id}'"
        locator = YamlLocator(wf, job_path, extra)
        entities.append(Entity(FRAMEWORK, "job", "job", f"jobs.{job_id}", path,
                               YamlLocator(wf).span(job_path) or root_span, data, locator, label))
        job_taint = _tainted_env(job.get("env"), env_taint)
        entities.extend(_steps(path, wf, job_path, job.get("steps"), events, job_id, label,
                               job_taint, composite=False))
    return entities


def _action(path: str, action: dict) -> list[Entity]:
    name = str(action.get("name") or path)
    span = getattr(action, "span", None) or Span(1)
    entities = [Entity(FRAMEWORK, "action", "action", "action", path, span, _shown(action),
                       YamlLocator(action), f"action '{name}'")]
    runs = action["runs"]
    entities.extend(_steps(path, action, ("runs",), runs.get("steps"), [], "runs",
                           f"action '{name}'", frozenset(), composite=True))
    return entities


def _steps(path, root, job_path, steps, events, job_id, job_label, taint, composite):
    if not isinstance(steps, list):
        return
    tainted = set(taint)
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or never_runs(step):
            continue
        step_path = (*job_path, "steps", index)
        data = dict(_shown(step), triggers=events, job_id=job_id)
        extra: dict = {}
        if isinstance(step.get("uses"), str):
            data["uses_ref"] = parse_uses(step["uses"])
            extra[("uses_ref",)] = (*step_path, "uses")
        step_taint = _tainted_env(step.get("env"), frozenset(tainted))
        texts = []
        if isinstance(step.get("run"), str):
            texts.append(("run", step["run"]))
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        uses_ref = data.get("uses_ref") or {}
        if str(uses_ref.get("action", "")).lower() == "actions/github-script" and isinstance(
                with_.get("script"), str):
            texts.append(("with.script", with_["script"]))
        untrusted: list[str] = []
        for key, text in texts:
            for found in untrusted_in(text, composite, frozenset(step_taint)):
                if found not in untrusted:
                    untrusted.append(found)
            if untrusted:
                where = ("with", "script") if key == "with.script" else ("run",)
                extra[("untrusted_expressions",)] = step_path + where
        data["untrusted_expressions"] = untrusted
        _with_credentials(data, extra, credentials(step, step_path))
        if untrusted and isinstance(step.get("id"), str):
            tainted.add(f"steps.{step['id']}.outputs".lower())
        name = step.get("name") or data.get("uses") or f"#{index + 1}"
        yield Entity(FRAMEWORK, "step", "step", f"{job_id}.steps[{index}]", path,
                     item_span(root, step_path) or Span(1), data,
                     YamlLocator(root, step_path, extra), f"{job_label} step '{name}'")


def credentials(block: dict, base: tuple) -> list[SecretHit]:
    """Literal credentials in a workflow, job or step (paths from the document's root). `env`,
    `with` and container `env` values count when a token detector recognises them or when they
    are random under a secret-like name: a CI database's `POSTGRES_PASSWORD: postgres` is not a
    credential. A container's `credentials.password` and a `secrets:` value passed to a reusable
    workflow are credentials whatever they look like; `run` is read for tokens only."""
    def pairs(mapping: Any, at: tuple) -> list[tuple[tuple, str, Any]]:
        return [((*at, key), str(key), value) for key, value in mapping.items()] \
            if isinstance(mapping, dict) else []

    plain = [*pairs(block.get("env"), (*base, "env")), *pairs(block.get("with"), (*base, "with"))]
    bearing = pairs(block.get("secrets"), (*base, "secrets"))
    services = block.get("services") if isinstance(block.get("services"), dict) else {}
    for at, container in [((*base, "container"), block.get("container")),
                          *(((*base, "services", n), c) for n, c in services.items())]:
        if isinstance(container, dict):
            plain.extend(pairs(container.get("env"), (*at, "env")))
            creds = container.get("credentials")
            bearing.extend(p for p in pairs(creds, (*at, "credentials")) if p[1] == "password")
    hits = find_secrets(plain, password_names=False)
    hits.extend(find_secrets(bearing, lambda path: True))
    if isinstance(block.get("run"), str):
        hits.extend(find_in_text(block["run"], (*base, "run"), "run", keywords=False))
    return hits


def _with_credentials(data: dict, extra: dict, hits: list[SecretHit]) -> None:
    """`hardcoded_secrets` in an entity's data, each located at the value it was found in."""
    data["hardcoded_secrets"] = [hit.as_data() for hit in hits]
    extra.update({("hardcoded_secrets", i): hit.path for i, hit in enumerate(hits)})


def _shown(mapping: dict) -> dict:
    """A copy of a job, step or action whose `uses:` and image references carry no credentials
    (`docker://user:password@host/image`): entity data can reach messages and reports."""
    data = dict(mapping)
    if isinstance(data.get("uses"), str):
        data["uses"] = without_credentials(data["uses"])
    for key in ("container", "runs"):
        if key in data:
            data[key] = _image_shown(data[key])
    if isinstance(data.get("services"), dict):
        data["services"] = {name: _image_shown(service) for name, service in data["services"].items()}
    return data


def _image_shown(value: Any) -> Any:
    """An image reference, or a mapping's `image:`, without credentials (a copy when it changes)."""
    if isinstance(value, str):
        return without_credentials(value)
    if isinstance(value, dict) and isinstance(value.get("image"), str):
        return dict(value, image=without_credentials(value["image"]))
    return value


def _tainted_env(env: Any, inherited: frozenset[str]) -> frozenset[str]:
    """`env.X` names whose value expands untrusted text, added to the inherited ones."""
    tainted = set(inherited)
    if isinstance(env, dict):
        for key, value in env.items():
            if isinstance(value, str) and untrusted_in(value, False, inherited):
                tainted.add(f"env.{key}".lower())
    return frozenset(tainted)
