"""Command line: the only module that reads argv, writes to the terminal and sets exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
SEVERITIES = ("critical", "high", "medium", "low")


def _split_csv(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _load_rules(rules_dirs: tuple[str, ...], criteria=(), tags=(), only=(), only_enabled=True):
    from .pipeline import ScanRequest, UsageError, choose_rules

    request = ScanRequest(rules_dirs=rules_dirs, criteria=criteria, tags=tags, only_rules=only,
                          use_config=False)
    try:
        return choose_rules(request, only_enabled=only_enabled)
    except UsageError as exc:
        _usage_error(str(exc))


def _usage_error(message: str):
    """Exit 2 with the message on stderr; it can quote scanned files (names, keys, values), so
    control characters are shown as escapes."""
    from .report.escape import printable

    click.echo(f"soc2lint: {printable(message)}", err=True)
    sys.exit(EXIT_USAGE)


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


class _Contained(click.Group):
    """The command group; an exception nothing else handled is one line on stderr and exit 3
    (the scan is incomplete), never a traceback and exit 1 (which means failures were found).
    SOC2LINT_DEBUG=1 shows the traceback."""

    def invoke(self, ctx: click.Context):
        import errno

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader went away: click handles it
                raise
            _internal_error(exc)
        except Exception as exc:
            _internal_error(exc)


def _internal_error(exc: Exception):
    """One line on stderr (and the traceback with SOC2LINT_DEBUG=1), then exit 3."""
    import os
    import traceback

    if os.environ.get("SOC2LINT_DEBUG", "") not in ("", "0"):
        traceback.print_exception(exc, file=sys.stderr)
    try:
        from .internal_error import describe

        what = describe(exc)
    except Exception:  # the message must not fail in turn
        what = type(exc).__name__
    click.echo(f"soc2lint: internal error, the scan did not finish: {what} "
               "(SOC2LINT_DEBUG=1 shows the traceback)", err=True)
    sys.exit(EXIT_INCOMPLETE)


@click.group(cls=_Contained, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="soc2lint")
def main() -> None:
    """Policy-as-code checks for Terraform, Kubernetes and GitHub Actions, mapped to SOC 2."""


def _scan_options(command):
    """Options `scan` and `report` share: what to scan, with which rules and settings."""
    options = [
        click.argument("paths", nargs=-1),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="Configuration file (default: the nearest .soc2lint.yaml or "
                     "pyproject.toml [tool.soc2lint] up to the repository root)."),
        click.option("--no-config", is_flag=True, help="Ignore any configuration file."),
        click.option("--criteria", multiple=True, help="Only rules evidencing these criteria (CC6.1,...)."),
        click.option("--tags", multiple=True, help="Only rules with these themes (encryption-at-rest,...)."),
        click.option("--rules-dir", multiple=True, type=click.Path(file_okay=False),
                     help="Extra directory of rule files (repeatable)."),
        click.option("--rule", "only_rules", multiple=True,
                     help="Run only these rules (ids or aliases), including ones disabled by default."),
        click.option("--var-file", "var_files", multiple=True,
                     type=click.Path(exists=True, dir_okay=False),
                     help="Terraform variables file for the root modules (repeatable; later files win)."),
        click.option("--environment", help="Use the variable files of this environment from the "
                     "configuration (terraform.environments)."),
        click.option("--baseline", type=click.Path(dir_okay=False),
                     help="Findings recorded in this baseline file do not count."),
        click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
                     help="The date ignores expire against (default: SOURCE_DATE_EPOCH, else today)."),
        click.option("--stdin-filename", help="File name for a YAML stream read from '-'."),
        click.option("--no-inline-ignores", is_flag=True,
                     help="soc2lint:ignore comments in the scanned files do not apply; only the "
                     "configuration's ignores and the baseline do."),
        click.option("--config-ref", metavar="REV",
                     help="Read the configuration and baseline as of this git revision (on a pull "
                     "request: the base branch), so a change cannot relax its own checks."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(options: dict, inventory: bool = False, quiet: bool = False, **review):
    """The scan the options ask for, or exit 2 with a message naming the file and key;
    `review` holds the diff options of `scan` (diff_base, changed_lines_only, full_scan)."""
    from .pipeline import ScanRequest, UsageError, choose_rules, load_project_config, run

    paths = tuple(options["paths"]) or (".",)
    _paths_exist(paths)
    request = ScanRequest(
        paths=paths, config=options["config_file"], use_config=not options["no_config"],
        rules_dirs=options["rules_dir"], criteria=options["criteria"], tags=options["tags"],
        only_rules=options["only_rules"], var_files=options["var_files"],
        environment=options["environment"], baseline=options["baseline"],
        today=options["today"].date() if options["today"] else None,
        stdin_text=sys.stdin.read() if "-" in paths else None,
        stdin_name=options["stdin_filename"], inline_ignores=not options["no_inline_ignores"],
        config_ref=options["config_ref"], **review)
    try:
        config = load_project_config(request)
        rules = choose_rules(request, config)
        with _DelayedProgress(enabled=sys.stderr.isatty() and not quiet) as progress:
            done = run(request, rules, config, progress, request.today, inventory)
    except UsageError as exc:
        _usage_error(str(exc))
    _cache_notices()
    if not quiet:
        _nothing_to_scan(done.empty)
    return done


def _paths_exist(paths: tuple[str, ...]) -> None:
    """Exit 2 when a path given on the command line does not exist (a broken symbolic link
    exists: the scan reports it)."""
    import os

    missing = [p for p in paths if p != "-" and not os.path.lexists(p)]
    if missing:
        _usage_error(f"{', '.join(missing)}: no such file or directory")


def _nothing_to_scan(directories) -> None:
    """Say on stderr which scanned directories held nothing soc2lint reads."""
    from .report.escape import printable

    for directory in directories:
        click.echo(f"soc2lint: nothing to scan in {printable(directory)}: no Terraform, "
                   "Kubernetes or GitHub Actions files", err=True)


def _cache_notices() -> None:
    """Say on stderr, once, why a cache directory was not used (other users may write to it)."""
    cache = sys.modules.get("soc2lint.parsers.cache")  # imported only when Terraform was read
    for notice in cache.take_notices() if cache else ():
        click.echo(f"soc2lint: warning: {notice}", err=True)


@main.command()
@_scan_options
@click.option("-f", "--format", "formats", multiple=True, metavar="FORMAT[=FILE]",
              help="text (default), json, sarif, github (workflow-command annotations) or summary "
              "(markdown job summary); repeat for several, FORMAT=FILE writes to a file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="File for the one format given without =FILE (the format is -f, not -o).")
@click.option("-q", "--quiet", is_flag=True,
              help="Text output: only failures and input errors, no summary; no progress bar.")
@click.option("--compact", is_flag=True,
              help="Text output: one line per finding (path:line:col: SEVERITY rule message), "
              "never wrapped, without the fix lines.")
@click.option("--fail-on", type=click.Choice([*SEVERITIES, "none"]),
              help="Lowest severity that makes the exit code 1 (default: the configuration's "
              "fail_on, else low).")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Record the failures that count in this baseline file; they then stop counting.")
@click.option("--sarif-include-unknown", is_flag=True,
              help="Put undecided results in SARIF under '<rule>/unresolved' (no severity).")
@click.option("--sarif-include-suppressed", is_flag=True,
              help="Put ignored and baselined failures in SARIF, marked as suppressed.")
@click.option("--category", help="SARIF automationDetails.id (default 'soc2lint/').")
@click.option("--color/--no-color", default=None,
              help="Colour text output (default: on a terminal, unless NO_COLOR is set).")
@click.option("--unknown-as-failure", is_flag=True,
              help="Count undecided results (unresolved values) as failures for the exit code.")
@click.option("--diff-base", metavar="REV",
              help="Report and count only files changed since this git revision (the merge base "
              "with HEAD when there is one), read with their Terraform directories. SARIF output "
              "still covers every path, so an upload never closes alerts outside the change.")
@click.option("--changed-lines-only", is_flag=True,
              help="With --diff-base: only findings whose block or module call holds a changed line.")
@click.option("--link-base", metavar="URL",
              help="Summary links: URL/<path>#L<line> (default in GitHub Actions: the commit "
              "being scanned on the server).")
def scan(formats, output, quiet, compact, fail_on, write_baseline, sarif_include_unknown,
         sarif_include_suppressed, category, color, unknown_as_failure, diff_base,
         changed_lines_only, link_base, **options) -> None:
    """Scan files and directories (default: the current directory); '-' reads YAML from stdin."""
    from .report import FORMATS

    if not formats:
        _not_a_format(output, FORMATS)
    targets = _targets(formats or ("text",), output)
    if changed_lines_only and not diff_base:
        raise click.BadParameter("needs --diff-base REV", param_hint="--changed-lines-only")
    if diff_base and (write_baseline or "-" in options["paths"]):
        _usage_error("--diff-base reports a change: it takes no standard input, and a baseline "
                     "is written from a full scan (drop --diff-base)")
    done = _run(options, quiet=quiet, diff_base=diff_base, changed_lines_only=changed_lines_only,
                full_scan=any(fmt == "sarif" for fmt, _ in targets))
    result, shown = done.result, done.shown
    if write_baseline:
        result = shown = _write_baseline(result, write_baseline)
    # counted once, from every finding in scope, before any renderer caps its output
    code = exit_code(shown, fail_on or done.config.fail_on or "low", unknown_as_failure)
    if any(fmt == "json" for fmt, _ in targets):
        shown = _with_authors(shown, options["paths"])
    from .report import render_chunks
    from .report.text import TextLayout

    for fmt, destination in targets:
        terminal = destination is None and sys.stdout.isatty()
        layout = TextLayout(color=_use_color(color, terminal), compact=compact, quiet=quiet,
                            width=_terminal_width() if terminal and not compact else None)
        _emit(render_chunks(fmt, result if fmt == "sarif" else shown, layout=layout,
                            include_unknown=sarif_include_unknown, category=category,
                            include_suppressed=sarif_include_suppressed,
                            link_base=link_base or _github_link_base()), destination)
    sys.exit(code)


def _not_a_format(output: str | None, formats: tuple[str, ...]) -> None:
    """Exit 2 when --output names a format and no format was given: `-o sarif` means
    `-f sarif` to users of other scanners, and would write text to a file named 'sarif'."""
    if output and output.lower() in formats:
        _usage_error(f"--output {output} names a file, and no --format was given: did you mean "
                     f"-f {output.lower()}? (to write it to a file: -f {output.lower()} "
                     f"-o FILE)")


def _use_color(color: bool | None, terminal: bool) -> bool:
    """--color/--no-color when given; else colour on a terminal unless NO_COLOR is set
    (https://no-color.org: any non-empty value)."""
    import os

    if color is not None:
        return color
    return terminal and not os.environ.get("NO_COLOR")


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _github_link_base() -> str | None:
    """In GitHub Actions, the scanned commit's files on the server."""
    import os

    server, repo, sha = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                        "GITHUB_SHA"))
    return f"{server}/{repo}/blob/{sha}" if server and repo and sha else None


REPORT_FORMATS = ("markdown", "html", "json")


@main.command()
@_scan_options
@click.option("-f", "--format", "fmt", type=click.Choice(REPORT_FORMATS),
              default="markdown", show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here.")
def report(fmt, output, **options) -> None:
    """Audit-readiness report: per SOC 2 criterion, the control tests run on the code, every
    resource inspected, exceptions with their justification, and what code cannot show."""
    if click.get_current_context().get_parameter_source("fmt") is click.core.ParameterSource.DEFAULT:
        _not_a_format(output, REPORT_FORMATS)
    from .gitinfo import repository, with_authors
    from .report.audit import Scope, build_audit
    from .report.audit_render import render_audit
    from .rules import load_rules

    done = _run(options, inventory=True)
    first = next((p for p in options["paths"] if p != "-"), ".")
    repo = repository(Path(first))
    result = with_authors(done.result, repo)
    scope = Scope(command=_command_line(click.get_current_context()),
                  generated_on=done.today.isoformat(), paths=tuple(options["paths"]) or (".",),
                  repository=repo, config=done.config, config_name=done.config_name,
                  environment=options["environment"] or done.config.environment)
    everything = load_rules([*done.config.rules_dirs, *map(Path, options["rules_dir"])])
    _emit(render_audit(fmt, build_audit(result, scope, everything)), output)
    sys.exit(EXIT_INCOMPLETE if any(n.is_error for n in result.notifications) else EXIT_OK)


def _command_line(ctx: click.Context) -> str:
    """The command as it could be typed again: arguments, then options not left at default."""
    import datetime
    import shlex

    words = ["soc2lint", ctx.info_name or ""]
    options = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(param, click.Argument):
            words.extend(value or ())
            continue
        if value in (None, False, ()) or value == param.default:
            continue
        flag = max(param.opts, key=len)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, datetime.datetime):
                item = item.date().isoformat()
            options.extend([flag] if item is True else [flag, str(item)])
    return shlex.join(words + options)


def _write_baseline(result, path: str):
    """Write the counted failures to a baseline; the result then treats them as baselined."""
    import dataclasses

    # what counts now, and what an earlier baseline already held: refreshing keeps those
    from .model import Outcome
    from .suppress import Baseline, Suppressor, baseline_key, render_baseline

    known = [f for f in result.findings if f.outcome is Outcome.FAIL and (
        f.suppression is None or f.suppression.kind == "baseline")]
    _emit(render_baseline(known), path)
    baseline = Baseline(path, frozenset(baseline_key(f) for f in known))
    return dataclasses.replace(result, findings=tuple(
        Suppressor((), result.rules, baseline).mark(result.findings)))


def _with_authors(result, paths):
    from .gitinfo import repository, with_authors

    if not any(f.suppression.is_exception for f in result.suppressed):
        return result  # nothing to ask git about
    first = next((p for p in paths if p != "-"), ".")
    return with_authors(result, repository(Path(first)))


def _emit(text: str | Iterable[str], destination: str | None) -> None:
    """Write the text, or its pieces as they come (in blocks), to the file or standard output."""
    chunks = [text] if isinstance(text, str) else text
    if destination is None:
        for block in _blocks(chunks):
            click.echo(block, nl=False)
        return
    try:
        with open(destination, "w", encoding="utf-8") as out:
            for block in _blocks(chunks):
                out.write(block)
    except OSError as exc:
        _usage_error(f"cannot write {destination}: {exc.strerror}")


def _blocks(chunks: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """Small pieces joined into blocks of about `size` characters; a file name that is not
    UTF-8 is shown with a replacement character, never a traceback."""
    pending: list[str] = []
    length = 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending).encode("utf-8", "replace").decode("utf-8")
            pending, length = [], 0
    if pending:
        yield "".join(pending).encode("utf-8", "replace").decode("utf-8")


class _DelayedProgress:
    """A progress bar on stderr that appears once a scan has run for a second (a short scan
    prints nothing) and is erased when it ends; the scan reports its total and each step."""

    DELAY, TICK, WIDTH = 1.0, 0.2, 30

    def __init__(self, enabled: bool):
        import threading

        self.enabled = enabled
        self.total = self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._draw, daemon=True) if enabled else None
        self._shown = False

    def begin(self, total: int) -> None:
        self.total = total

    def advance(self, steps: int = 1) -> None:
        self.done += steps

    def __enter__(self):
        if self._thread:
            self._thread.start()
        return self if self.enabled else None

    def __exit__(self, *exc) -> None:
        if self._thread:
            self._stop.set()
            self._thread.join()
            if self._shown:
                self._write("\r\x1b[K")  # erase the bar

    def _draw(self) -> None:
        import time

        start = time.monotonic()
        if self._stop.wait(self.DELAY):
            return
        while not self._stop.is_set():
            done, total = min(self.done, self.total), self.total
            filled = self.WIDTH * done // total if total else 0
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self._write(f"\rscanning [{bar}] {done}/{total} files  {time.monotonic() - start:.0f} s")
            self._shown = True
            self._stop.wait(self.TICK)

    @staticmethod
    def _write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()


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
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True,
              help="text: one line per rule; json: every rule's metadata; markdown: the catalogue "
              "by SOC 2 criterion (docs/rules.md), with the rules disabled by default.")
@click.option("--rules-dir", multiple=True, type=click.Path(file_okay=False),
              help="Extra directory of rule files (repeatable).")
@click.option("--criteria", multiple=True,
              help="Only rules evidencing these criteria (CC6.1,...).")
@click.option("--tags", multiple=True, help="Only rules with these themes (encryption-at-rest,...).")
def rules_command(fmt, rules_dir, criteria, tags) -> None:
    """List the rules enabled by default with their severity, SOC 2 criteria and title."""
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
        from .report.escape import one_line

        width = max((len(r.id) for r in rules), default=10)
        for r in rules:
            click.echo(f"{r.id:<{width}}  {r.severity.value:<8}  "
                       f"{','.join(r.soc2.primary):<12}  {one_line(r.title)}")
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
@click.argument("rule_id", metavar="ID")
@click.option("--rules-dir", multiple=True, type=click.Path(file_okay=False),
              help="Extra directory of rule files (repeatable).")
def explain(rule_id, rules_dir) -> None:
    """What a rule checks, why (its SOC 2 criteria) and how to fix a failure. ID is a rule id,
    an alias, or a catalogue id (GHA-CICD-002), which explains every rule that carries it."""
    from .report.escape import one_line
    from .rules import nearest

    rules = _load_rules(rules_dir, only_enabled=False)
    by_name = {name: r for r in rules for name in (r.id, *r.aliases)}
    chosen = [by_name[rule_id]] if rule_id in by_name else [
        r for r in rules if r.catalogue_id and r.catalogue_id.lower() == rule_id.lower()]
    if not chosen:
        hint = nearest(rule_id, [*by_name, *{r.catalogue_id for r in rules if r.catalogue_id}])
        _usage_error(f"no rule or catalogue id '{rule_id}'{hint}; `soc2lint rules` lists them")
    if rule_id not in by_name:
        click.echo(f"catalogue id {one_line(chosen[0].catalogue_id)}: {len(chosen)} rule(s): "
                   f"{', '.join(r.id for r in chosen)}\n")
    for number, rule in enumerate(chosen):
        if number:
            click.echo("")
        _explain_rule(rule)


def _explain_rule(rule) -> None:
    """The explanation of one rule; rule files may come from a scanned repository, so every
    value is made printable."""
    from .report.escape import one_line, printable
    from .rules import criteria_titles

    titles = criteria_titles()
    click.echo(f"{rule.id}: {one_line(rule.title)}")
    click.echo(f"severity {rule.severity.value}, precision {rule.precision}, "
               f"themes {', '.join(rule.tags)}" + ("" if rule.enabled else ", disabled by default "
                                                   f"(enable it with --rule {rule.id})"))
    if rule.catalogue_id:
        click.echo(f"catalogue id {one_line(rule.catalogue_id)}")
    click.echo("\nSOC 2 criteria:")
    for kind, ids in (("primary", rule.soc2.primary), ("secondary", rule.soc2.secondary)):
        for c in ids:
            click.echo(f"  {c} ({kind}): {titles.get(c, '')}")
    for heading, text in (("What and why", rule.description), ("How to fix", rule.remediation),
                          ("Limitations", rule.limitations)):
        if text:
            click.echo(f"\n{heading}:\n  {printable(text.strip(), keep=chr(10))}")
    if rule.references:
        click.echo("\nReferences:\n" + "\n".join(f"  {one_line(r)}" for r in rule.references))
