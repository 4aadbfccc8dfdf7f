"""The pipeline: discovered sources -> entities -> findings, with notifications for bad input."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import engine
from .discovery import TERRAFORM_KINDS, Discovery, Source, discover, kind_of
from .internal_error import internal_error
from .inventory import take_inventory
from .model import Entity, Notification, Rule, ScanResult
from .repository import repository_entity
from .suppress import Baseline, Ignore, Suppressor, inline_ignores, today, with_unknown_rules

if TYPE_CHECKING:
    from .evaluate.budget import Budgets


def parse_source(source: Source) -> tuple[list[Entity], list[Notification], str | None]:
    """Entities of one YAML source, notifications about it, and the framework it was read as."""
    import yaml

    from .parsers import github_actions, kubernetes
    from .parsers.yamlspans import AliasBombError, load_documents

    try:
        docs, warnings = load_documents(source.text)
    except AliasBombError as exc:
        return [], [Notification(source.path, str(exc), "error", exc.line)], None
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = "; it looks like a template" if "{{" in source.text else ""
        return [], [Notification(source.path, f"invalid YAML: {problem}{hint}", "error",
                                 mark.line + 1 if mark else None)], None
    notes = [Notification(source.path, w, "warning") for w in warnings]
    if source.workflow_dir or any(github_actions.is_workflow(d.data) for d in docs) or (
            source.action_file and any(github_actions.is_action(d.data) for d in docs)):
        return github_actions.parse(source.path, docs), notes, "github-actions"
    if any(kubernetes.is_manifest(d.data) for d in docs):
        return kubernetes.parse(source.path, docs), notes, "kubernetes"
    return [], notes, None


def sibling_manifests(found: Discovery, kinds: Iterable[str]) -> list[Entity]:
    """Kubernetes objects of the YAML files beside files named one by one (a pre-commit or
    pull-request scan), for joins only, as Terraform reads a named file's directory: a pod's
    ServiceAccount is usually in a sibling file. Only files whose text names one of `kinds` are
    parsed; their problems are reported when they are scanned themselves, not here."""
    directories = sorted({s.location.parent for s in found.sources if s.kind == "yaml"
                          and s.location is not None and not _walked(s.location, found.walked)})
    siblings = [str(path) for directory in directories for path in _yaml_files(directory)
                if path.resolve() not in found.seen]
    if not siblings:
        return []
    extra = discover(siblings, exclude=found.exclude)
    return [e for source in extra.sources if any(kind in source.text for kind in kinds)
            for e in read_source(source)[0] if e.framework == "kubernetes"]


def _walked(path: Path, walked: set[Path]) -> bool:
    return any(directory in walked for directory in path.parents)


def _yaml_files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if kind_of(p.name) == "yaml" and p.is_file())
    except OSError:
        return []


def known_names(policy: Policy, rules: Sequence[Rule]) -> frozenset[str]:
    """The names an ignore may give: the ids and aliases of every rule known to the run."""
    from .rules import RuleError, rule_names

    running = {name for rule in rules for name in (rule.id, *rule.aliases)}
    try:
        return rule_names(policy.rules_dirs) | running
    except RuleError:  # reported when the rules were chosen
        return frozenset(running)


@dataclass(frozen=True)
class Policy:
    """What decides which findings count: config ignores, the baseline, today's date, and
    whether ignores written in the scanned files apply; `rules_dirs` holds the run's extra rule
    directories, whose rules an ignore may name besides the bundled ones."""

    ignores: tuple[Ignore, ...] = ()
    baseline: Baseline | None = None
    today: datetime.date | None = None
    inline: bool = True
    rules_dirs: tuple[Path, ...] = ()


def read_source(source: Source) -> tuple[list[Entity], list[Notification], str | None]:
    """`parse_source`, with an unexpected exception told as an error notification on the file."""
    try:
        return parse_source(source)
    except Exception as exc:  # one file's bug must not stop the scan
        return [], [internal_error(source.path, exc)], None


class Progress(Protocol):
    """Told how many files a scan has, then as they are done."""

    def begin(self, total: int) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


def scan(found: Discovery, rules: Sequence[Rule], progress: Progress | None = None,
         var_files: Sequence[Path | tuple[Path, Path | None]] = (),
         policy: Policy = Policy(), inventory: bool = False,
         budgets: Budgets | None = None) -> ScanResult:
    """Parse every source, evaluate the rules, mark what ignores and the baseline cover;
    `progress` is told the files done; `inventory` also lists the outside services and
    remote modules the code relies on (for the audit report)."""
    entities: list[Entity] = []
    texts: dict[str, str] = {}
    notifications = list(found.notifications)
    files: list[str] = []
    skipped: list[tuple[str, str]] = list(found.skipped)
    frameworks: set[str] = set()
    context: list[Entity] = []  # only for joins: resources of sibling files not asked for
    remote_calls: tuple = ()  # Terraform module calls that are not evaluated
    terraform = [s for s in found.sources if s.kind in TERRAFORM_KINDS]
    if progress:
        progress.begin(len(found.sources))
    if terraform:
        from .derive import derive
        from .derive.principals import own_accounts
        from .derive.secrets import with_origins
        from .evaluate.project import Project

        evaluated = Project(var_files, budgets=budgets,
                            advance=progress.advance if progress else None).evaluate(terraform)
        accounts = own_accounts([*evaluated.entities, *evaluated.context])
        uses: list = []  # credentials written in a variable default or module argument
        derived = list(derive(evaluated.entities, accounts, uses))
        context = list(derive(evaluated.context, accounts, uses))
        entities.extend(with_origins(derived, uses))
        notifications.extend(evaluated.notifications)
        remote_calls = evaluated.remote_calls
        files.extend(s.path for s in terraform)
        texts.update(evaluated.texts)
        frameworks.add("terraform")
    others = [s for s in found.sources if s.kind not in TERRAFORM_KINDS]
    for source in others:
        parsed, notes, framework = read_source(source)
        if progress:
            progress.advance()
        notifications.extend(notes)
        if framework is None and not any(n.is_error for n in notes):
            skipped.append((source.path, "not a Kubernetes manifest or GitHub Actions file"))
            continue
        files.append(source.path)
        texts[source.path] = source.text
        if framework:
            frameworks.add(framework)
        entities.extend(parsed)
    if "kubernetes" in frameworks:  # joins across files, once every manifest is parsed
        from .derive.kubernetes import JOINED_KINDS, derive_kubernetes

        entities = derive_kubernetes(entities, sibling_manifests(found, JOINED_KINDS))
    scanned = [s.location for s in found.sources if s.location is not None]
    for display, root in found.roots:
        repository = repository_entity(display, root, scanned)
        if repository is not None:
            entities.append(repository)
    now = policy.today or today()
    ignores: list[Ignore] = []
    for path, text in texts.items() if policy.inline else ():
        try:
            ignores.extend(inline_ignores(path, text, now))
        except Exception as exc:  # one file's bug must not stop the scan
            notifications.append(internal_error(path, exc, "reading its soc2lint:ignore comments"))
    reported = set(files)
    for ignore in ignores:
        if ignore.problem and ignore.path in reported:
            notifications.append(Notification(ignore.path, ignore.problem, "warning", ignore.span.line))
    ignores.extend(policy.ignores)
    if ignores:
        ignores = with_unknown_rules(ignores, known_names(policy, rules))
    entities.extend(i.entity() for i in ignores if i.kind == "config" or i.path in reported)
    evaluation = engine.run(rules, entities, context)
    notifications.extend(evaluation.notifications)
    findings = Suppressor(ignores, rules, policy.baseline).mark(evaluation.findings)
    notifications.sort(key=lambda n: (n.path, n.line or 0, n.message))
    return ScanResult(tuple(rules), tuple(findings), tuple(notifications), tuple(sorted(files)),
                      tuple(sorted(skipped)), tuple(sorted(frameworks)),
                      take_inventory(e for e in entities if e.path in reported) if inventory else None,
                      module_calls_not_evaluated=remote_calls)
