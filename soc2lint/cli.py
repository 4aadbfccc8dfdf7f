"""Command line: the only module that reads argv, writes to the terminal and sets exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
SEVERITIES = ("critical", "high", "medium", "low")


def _split_csv(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _load_rules(rules_dirs: tuple[str, ...], criteria=(), tags=(), only=(), only_enabled=True):
    from .rules import RuleError, load_rules, select

    try:
        rules = load_rules([Path(d) for d in rules_dirs])
    except RuleError as exc:
        click.echo(f"soc2lint: rule error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    wanted = _split_csv(only)
    if wanted:
        named = {name: r for r in rules for name in (r.id, *r.aliases)}
        missing = [w for w in wanted if w not in named]
        if missing:
            click.echo(f"soc2lint: no rule {', '.join(missing)}; `soc2lint rules` lists them",
                       err=True)
            sys.exit(EXIT_USAGE)
        rules = list({named[w].id: named[w] for w in wanted}.values())
        return select(rules, _split_csv(criteria), _split_csv(tags), only_enabled=False)
    return select(rules, _split_csv(criteria), _split_csv(tags), only_enabled=only_enabled)


def exit_code(result, fail_on: str, unknown_as_failure: bool = False) -> int:
    """1 when an unsuppressed failure (or, when asked, an undecided result) is at or above
    `fail_on`; else 3 when input was unreadable."""
    from .model import Severity

    if fail_on != "none":
        threshold = Severity(fail_on).rank
        counted = result.failures + (result.unknowns if unknown_as_failure else ())
        if any(f.rule.severity.rank >= threshold for f in counted):
            return EXIT_FINDINGS
    if any(n.is_error for n in result.notifications):
        return EXIT_INCOMPLETE
    return EXIT_OK


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="soc2lint")
def main() -> None:
    """Policy-as-code checks for Terraform, Kubernetes and GitHub Actions, mapped to SOC 2."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option("-f", "--format", "formats", multiple=True, metavar="FORMAT[=FILE]",
              help="text, json or sarif; repeat for several, FORMAT=FILE writes to a file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="File for the one format given without =FILE.")
@click.option("--fail-on", type=click.Choice([*SEVERITIES, "none"]), default="low",
              show_default=True, help="Lowest severity that makes the exit code 1.")
@click.option("--criteria", multiple=True, help="Only rules evidencing these criteria (CC6.1,...).")
@click.option("--tags", multiple=True, help="Only rules with these themes (encryption-at-rest,...).")
@click.option("--rules-dir", multiple=True, type=click.Path(file_okay=False),
              help="Extra directory of rule files (repeatable).")
@click.option("--rule", "only_rules", multiple=True,
              help="Run only these rules (ids or aliases), including ones disabled by default.")
@click.option("--stdin-filename", help="File name for a YAML stream read from '-'.")
@click.option("--sarif-include-unknown", is_flag=True,
              help="Put undecided results in SARIF under '<rule>/unresolved' (no severity).")
@click.option("--category", help="SARIF automationDetails.id (default 'soc2lint/').")
@click.option("--color/--no-color", default=None, help="Colour text output (default: on a tty).")
@click.option("--var-file", "var_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Terraform variables file for the root modules (repeatable; later files win).")
@click.option("--unknown-as-failure", is_flag=True,
              help="Count undecided results (unresolved values) as failures for the exit code.")
def scan(paths, formats, output, fail_on, criteria, tags, rules_dir, only_rules, stdin_filename,
         sarif_include_unknown, category, color, var_files, unknown_as_failure) -> None:
    """Scan files and directories (default: the current directory); '-' reads YAML from stdin."""
    targets = _targets(formats or ("text",), output)
    rules = _load_rules(rules_dir, criteria, tags, only_rules)
    from .discovery import discover
    from .report import render
    from .scan import scan as run_scan

    stdin_text = sys.stdin.read() if "-" in paths else None
    found = discover(list(paths) or ["."], stdin_text, stdin_filename)
    result = run_scan(found, rules, _progress if _interactive(found) else None,
                      var_files=[Path(p) for p in var_files])
    code = exit_code(result, fail_on, unknown_as_failure)
    for fmt, destination in targets:
        use_color = color if color is not None else (destination is None and sys.stdout.isatty())
        text = render(fmt, result, color=use_color, include_unknown=sarif_include_unknown,
                      category=category)
        if destination is None:
            click.echo(text, nl=False)
        else:
            try:
                Path(destination).write_text(text, encoding="utf-8")
            except OSError as exc:
                click.echo(f"soc2lint: cannot write {destination}: {exc.strerror}", err=True)
                sys.exit(EXIT_USAGE)
    sys.exit(code)


def _interactive(found) -> bool:
    return len(found.sources) >= 200 and sys.stderr.isatty()


def _progress(sources):
    """A progress bar on stderr for long scans on a terminal."""
    with click.progressbar(sources, label="scanning", file=sys.stderr,
                           item_show_func=lambda s: s.path[-40:] if s else "") as bar:
        yield from bar


def _targets(formats: tuple[str, ...], output: str | None) -> list[tuple[str, str | None]]:
    from .report import FORMATS

    targets: list[tuple[str, str | None]] = []
    for item in formats:
        fmt, _, destination = item.partition("=")
        if fmt not in FORMATS:
            raise click.BadParameter(f"'{fmt}' is not one of {', '.join(FORMATS)}",
                                     param_hint="--format")
        targets.append((fmt, destination or None))
    plain = [i for i, (_, d) in enumerate(targets) if d is None]
    if output:
        if len(plain) != 1:
            raise click.BadParameter("--output needs exactly one --format without =FILE",
                                     param_hint="--output")
        targets[plain[0]] = (targets[plain[0]][0], output)
    elif len(plain) > 1:
        raise click.BadParameter("only one format can go to standard output; give the others "
                                 "as FORMAT=FILE", param_hint="--format")
    return targets


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option("--rules-dir", multiple=True, type=click.Path(file_okay=False))
@click.option("--criteria", multiple=True)
@click.option("--tags", multiple=True)
def rules_command(fmt, rules_dir, criteria, tags) -> None:
    """List the rules with their SOC 2 criteria and themes."""
    # Unfiltered, the Markdown catalogue (docs/rules.md) also lists rules disabled by default.
    catalogue = fmt == "markdown" and not _split_csv(criteria) and not _split_csv(tags)
    rules = _load_rules(rules_dir, criteria, tags, only_enabled=not catalogue)
    if fmt == "json":
        click.echo(json.dumps([_rule_summary(r) for r in rules], indent=2))
    elif fmt == "markdown":
        from .report.catalogue import render_catalogue_markdown
        from .rules import criteria_titles

        click.echo(render_catalogue_markdown(rules, criteria_titles()), nl=False)
    else:
        width = max((len(r.id) for r in rules), default=10)
        for r in rules:
            click.echo(f"{r.id:<{width}}  {r.severity.value:<8}  "
                       f"{','.join(r.soc2.primary):<12}  {r.title}")
        click.echo(f"\n{len(rules)} rules")


def _rule_summary(rule) -> dict:
    return {
        "id": rule.id, "title": rule.title, "severity": rule.severity.value,
        "soc2": {"primary": list(rule.soc2.primary), "secondary": list(rule.soc2.secondary)},
        "tags": list(rule.tags), "precision": rule.precision,
        "framework": rule.target.framework, "catalogue_id": rule.catalogue_id,
        "aliases": list(rule.aliases),
    }


@main.command()
@click.argument("rule_id")
@click.option("--rules-dir", multiple=True, type=click.Path(file_okay=False))
def explain(rule_id, rules_dir) -> None:
    """What a rule checks, why (its SOC 2 criteria) and how to fix a failure."""
    from .rules import criteria_titles

    rules = {r.id: r for r in _load_rules(rules_dir)}
    rule = rules.get(rule_id) or next((r for r in rules.values() if rule_id in r.aliases), None)
    if rule is None:
        click.echo(f"soc2lint: no rule '{rule_id}'; `soc2lint rules` lists them", err=True)
        sys.exit(EXIT_USAGE)
    titles = criteria_titles()
    click.echo(f"{rule.id}: {rule.title}")
    click.echo(f"severity {rule.severity.value}, precision {rule.precision}, "
               f"themes {', '.join(rule.tags)}")
    if rule.catalogue_id:
        click.echo(f"catalogue id {rule.catalogue_id}")
    click.echo("\nSOC 2 criteria:")
    for kind, ids in (("primary", rule.soc2.primary), ("secondary", rule.soc2.secondary)):
        for c in ids:
            click.echo(f"  {c} ({kind}): {titles.get(c, '')}")
    for heading, text in (("What and why", rule.description), ("How to fix", rule.remediation),
                          ("Limitations", rule.limitations)):
        if text:
            click.echo(f"\n{heading}:\n  {text.strip()}")
    if rule.references:
        click.echo("\nReferences:\n" + "\n".join(f"  {r}" for r in rule.references))
