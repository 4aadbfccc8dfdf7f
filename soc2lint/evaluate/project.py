"""The Terraform part of a scan: which directories are modules, which are roots, their values.

A file asked for is evaluated with its whole directory as context (sibling `.tf` files and the
variable files Terraform loads by itself); findings are kept only for the files asked for.
Local module calls are followed; a directory another scanned directory calls is evaluated
through its calls, with their arguments, and not on its own (calls that loop are an error, see
`callgraph`). Nothing outside the repository a file was found in is read: not a sibling or
variable file linked from elsewhere, not a module whose source leads out of it (a `--var-file` is
the user's own choice and is read wherever it is).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..discovery import Boundary, Namer, Source, kind_of, leaves, read_text, within
from ..inventory import RemoteModule, remote_modules, unevaluated_calls_note
from ..model import Entity, Notification
from ..parsers import ParseError
from ..parsers.cache import ParseCache
from ..parsers.hcl2dist import hcl2_provider
from ..parsers.terraform import TfFile, hcl_parser, parse_file, parse_tfvars
from . import budget
from .budget import Budgets, Meter
from .callgraph import CallGraph, LocalCall, describe_loop
from .module import Module, ModuleInstance
from .roots import root_entities

POOL_MIN_FILES = 64  # below this, starting worker processes costs more than it saves


@dataclass
class TerraformResult:
    entities: list[Entity] = field(default_factory=list)
    context: list[Entity] = field(default_factory=list)  # resources of files not asked for
    notifications: list[Notification] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # every file read, by display path
    remote_calls: tuple[RemoteModule, ...] = ()  # registry and git module calls, not evaluated


def _parse(job: tuple[str, str, str, ParseCache]) -> TfFile | ParseError:
    """Parse one file and store it in the cache (in a pool worker for large scans)."""
    path, text, key, cache = job
    try:
        parsed = parse_file(path, text)
    except ParseError as exc:
        return exc
    except RecursionError:
        return ParseError("too deeply nested to parse")
    except Exception as exc:  # a defect must not end the scan: the file is reported instead
        return ParseError(f"not read: unexpected {type(exc).__name__} while parsing")
    cache.put(key, parsed)
    return parsed


class Project:
    """Loads directories as modules (parsing each file once) and evaluates the roots."""

    def __init__(self, var_files: Iterable[Path | tuple[Path, Path | None]] = (),
                 cache: ParseCache | None = None, namer: Namer | None = None,
                 workers: int | None = None, budgets: Budgets | None = None,
                 advance: Callable[[int], None] | None = None) -> None:
        # (file, root module directory it is limited to, or None for every root)
        self.var_files = [(Path(v[0]), v[1] and Path(v[1]).resolve()) if isinstance(v, tuple)
                          else (Path(v), None) for v in var_files]
        self.cache = cache if cache is not None else ParseCache.default()
        self.namer = namer or Namer()
        self.workers = workers or int(os.environ.get("SOC2LINT_WORKERS") or 0) or None
        self.notifications: list[Notification] = []
        self.meter = Meter(budgets or Budgets())
        self.advance = advance or (lambda steps: None)  # told the files asked for as they are done
        self._asked: dict[Path, Source] = {}
        self._modules: dict[Path, Module | None] = {}
        self._files: dict[Path, TfFile | None] = {}
        self._empty: set[Path] = set()  # files with nothing in them: not parsed, nothing missed
        self._failed: list[str] = []  # files where a block of the root being evaluated failed
        self._locations: dict[str, Path] = {}
        self._var_values: dict[Path, dict[str, Any]] = {}
        self._warned: set[tuple[str, str, int | None]] = set()
        self._boundaries: dict[Path, Boundary] = {}  # module directory -> its repository
        self._by_top: dict[Path, Boundary] = {}  # one boundary per repository

    # -- loading ---------------------------------------------------------------------------
    def _directory_files(self, directory: Path) -> list[Path]:
        """The module's files; as OpenTofu does, `x.tofu` replaces `x.tf` beside it. A symbolic
        link that leads outside the repository is left out, with a notification."""
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            return []
        present = {e.name for e in entries}
        chosen = [e for e in entries if kind_of(e.name) in ("terraform", "terraform-json")
                  and _tofu_twin(e.name) not in present]
        refused = set(self._outside([Path(e.path) for e in chosen if e.is_symlink()], directory))
        return [Path(e.path) for e in chosen if Path(e.path) not in refused and _is_file(e)]

    def _outside(self, paths: Iterable[Path], directory: Path) -> list[Path]:
        """Those of `paths` (in `directory`) that lead outside its repository, each reported."""
        boundary = self._boundary(directory)
        refused = [p for p in paths if leaves(p, boundary.top)]
        for path in refused:
            boundary.refuse(path, self.namer.name(path, follow=False), self.notifications)
        return refused

    def _boundary(self, directory: Path) -> Boundary:
        """The repository a module directory is read in: its sources', or its caller's; by
        default, the one enclosing it."""
        if directory not in self._boundaries:
            top = self.namer.repository(directory)
            self._boundaries[directory] = self._by_top.setdefault(top, Boundary(top))
        return self._boundaries[directory]

    def _parse_all(self, paths: list[Path]) -> None:
        """Parse the files not parsed yet: from the cache, else in a pool when there are many."""
        todo: list[tuple[Path, str, str, str]] = []
        for path in paths:
            if path in self._files:
                continue
            source = self._asked.get(path)
            if source is not None:
                display, text = source.path, source.text
            else:
                display = self.namer.name(path)
                text, problem = read_text(path)
                if problem:
                    self._files[path] = None
                    if problem == "empty file":
                        self._empty.add(path)
                    else:
                        self._note(display, f"{problem}; its module is evaluated without it", "warning")
                    continue
            key = ParseCache.key("json" if display.endswith(".json") else "hcl", text)
            cached = self.cache.get(key)
            if isinstance(cached, TfFile):
                self._files[path] = TfFile(display, cached.text, cached.blocks, cached.is_json)
                continue
            todo.append((path, display, text, key))
        if not todo:
            return
        jobs = [(display, text, key, self.cache) for _, display, text, key in todo]
        pooled = len(todo) >= POOL_MIN_FILES and (self.workers or os.cpu_count() or 1) > 1
        context = _pool_context() if pooled else None
        if context is not None:
            from concurrent.futures import ProcessPoolExecutor  # only large scans pay its import

            workers = min(self.workers or os.cpu_count() or 1, 8)
            hcl_parser()  # build (or load) the grammar tables once, before the workers read them
            with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                     initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
                results = list(pool.map(_parse, jobs, chunksize=8))
        else:
            results = [_parse(job) for job in jobs]
        for (path, display, _text, _key), result in zip(todo, results, strict=True):
            if isinstance(result, ParseError):
                self._files[path] = None
                if path in self._asked:
                    self.notifications.append(Notification(display, result.message, "error", result.line))
                else:
                    self._note(display, f"cannot parse ({result.message}); its module is evaluated "
                               "without it", "warning", result.line)
                continue
            self._files[path] = result

    def _note(self, path: str, message: str, level: str, line: int | None = None) -> None:
        if (path, message, line) not in self._warned:
            self._warned.add((path, message, line))
            self.notifications.append(Notification(path, message, level, line))

    def module(self, directory: Path) -> Module | None:
        """The module in a directory (None when it holds no Terraform file)."""
        directory = directory.resolve()
        if directory not in self._modules:
            paths = self._directory_files(directory)
            self._parse_all(paths)
            files = [f for f in (self._files.get(p) for p in paths) if f is not None]
            module = None
            if paths:
                module = Module(self.namer.name(directory) if directory.exists() else str(directory), files)
                self._locations[module.directory] = directory
            self._modules[directory] = module
        return self._modules[directory]

    def _unparsed(self, directory: Path) -> list[str]:
        """The Terraform files of a directory that could not be parsed."""
        return [self.namer.name(p) for p in self._directory_files(directory)
                if self._files.get(p) is None and p not in self._empty]

    def note_failure(self, path: str, line: int | None, exc: BaseException) -> None:
        """An error for a block or module whose evaluation failed unexpectedly; the scan goes on.
        The root being evaluated is then not read whole, even when the error was told before (a
        module two roots call)."""
        self._failed.append(path)
        self._note(path, f"not evaluated: unexpected {type(exc).__name__} while evaluating it; the "
                   "rest of the scan goes on", "error", line)

    def note_too_deep(self, path: str, line: int, address: str, depth: int) -> None:
        """A warning for a local module call below the nesting that is followed."""
        self._note(path, f"{address} is nested more than {depth} local module calls deep: not "
                   "evaluated, so the resources it creates are not checked", "warning", line)

    def module_for_call(self, caller: Module, source: str, caller_file: str, line: int) -> Module | None:
        """The module a local `source` names, relative to the calling module's directory."""
        target = self._call_target(caller, source, caller_file, line)
        if target is None:
            return None
        module = self.module(target)
        if module is None:
            self._note(caller_file, f"module source '{source}' (line {line}) has no Terraform files; "
                       "its outputs are unknown", "warning", line)
        return module

    def _call_target(self, caller: Module, source: str, caller_file: str, line: int) -> Path | None:
        """The directory a local module `source` names; None (noted at the call) when it is not
        read: it leads outside the caller's repository, or through a symbolic link loop."""
        base = self._locations.get(caller.directory)
        if base is None:
            return None
        boundary = self._boundary(base)
        try:
            target = (base / source).resolve()
        except (OSError, RuntimeError):
            self._note(caller_file, "module source goes through a symbolic link loop: not read, so "
                       "the module's outputs are unknown", "warning", line)
            return None
        if not within(target, boundary.top):
            self._note(caller_file, "module source leads outside the repository: not read, so the "
                       "module's outputs are unknown", "warning", line)
            return None
        self._boundaries.setdefault(target, boundary)
        return target

    def root_values(self, module: Module) -> dict[str, Any]:
        """Variable values for a root module: auto-loaded variable files, then --var-file."""
        directory = self._locations.get(module.directory)
        if directory is None:
            return {}
        if directory not in self._var_values:
            values: dict[str, Any] = {}
            named = [path for path, root in self.var_files if root is None or root == directory]
            automatic = auto_var_files(directory)
            refused = set(self._outside([p for p in automatic if p.is_symlink()], directory))
            for path in [*(p for p in automatic if p not in refused), *named]:
                values.update(self._read_var_file(path))
            self._var_values[directory] = values
        return self._var_values[directory]

    def _read_var_file(self, path: Path) -> dict[str, Any]:
        display = self.namer.name(path) if path.exists() else str(path)
        text, problem = read_text(path)
        if problem:
            if problem != "empty file":
                self._note(display, problem, "error")
            return {}
        try:
            return parse_tfvars(display, text)
        except ParseError as exc:
            self._note(display, exc.message, "error", exc.line)
            return {}

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, sources: Iterable[Source]) -> TerraformResult:
        """Entities of the Terraform sources asked for, evaluated in their modules; none, and an
        error for each source, when the installed `hcl2` is not a python-hcl2 soc2lint supports."""
        token = budget.activate(self.meter)
        try:
            result = self._evaluate(list(sources))
        finally:
            budget.deactivate(token)
        result.notifications = [*self.notifications, *self.meter.notifications]
        return result

    def _evaluate(self, sources: list[Source]) -> TerraformResult:
        problem = hcl2_provider().problem()
        if problem is not None:
            self.notifications.extend(Notification(s.path, problem) for s in sources)
            return TerraformResult(files=sorted({s.path for s in sources}))
        result = TerraformResult()
        reported: set[str] = set()
        directories: list[Path] = []
        standalone: list[Source] = []
        for source in sources:
            if source.location is None:
                standalone.append(source)
                continue
            location = source.location
            if source.boundary is not None:
                shared = self._by_top.setdefault(source.boundary.top, source.boundary)
                self._boundaries.setdefault(location.parent, shared)
            if source.kind == "tfvars":
                if is_auto_var_file(location.name):
                    reported.update(self.namer.name(p) for p in self._directory_files(location.parent))
                else:
                    self._read_var_file(location)  # checked for errors; loaded only when named
            else:
                self._asked[location] = source
                reported.add(source.path)
            if location.parent not in directories:
                directories.append(location.parent)
        self._parse_all([p for d in directories for p in self._directory_files(d)])
        modules = [m for m in (self.module(d) for d in directories) if m is not None]
        graph = self._call_graph(modules)
        self._report_loops(graph)
        roots = set(graph.roots(self._locations[m.directory] for m in modules))
        for module in modules:
            for later, earlier in module.duplicates:
                if later.file.path in reported:
                    self._note(later.file.path, f"{later.block.kind} {' '.join(later.block.labels)} is "
                               f"declared twice in this module (also in {earlier.file.path}, line "
                               f"{earlier.block.span.line}), which Terraform rejects; references "
                               "resolve to this one", "warning", later.block.span.line)
        done = 0
        for module in modules:
            if self._locations[module.directory] not in roots:
                continue
            self.meter.new_root()
            self._failed = []
            try:
                instance = ModuleInstance(self, module, context=module.directory)
                entities, context = len(result.entities), len(result.context)
                result.entities.extend(instance.entities(reported.__contains__, result.context))
                result.entities.extend(root_entities(
                    module.directory, [*result.entities[entities:], *result.context[context:]],
                    reported.__contains__, self._unparsed(self._locations[module.directory]),
                    self._failed[0] if self._failed else None))
            except Exception as exc:  # a defect in one module must not end the scan
                first = min((f.path for f in module.files if f.path in reported), default=module.directory)
                self.note_failure(first, None, exc)
            steps = sum(1 for f in module.files if f.path in reported)
            self.advance(steps)
            done += steps
        for source in standalone:
            self.meter.new_root()
            result.entities.extend(self._standalone(source))
        self.advance(max(len(sources) - done, 0))  # modules evaluated only through their callers
        result.remote_calls = remote_modules(result.entities)
        self.notifications.extend(unevaluated_calls_note(result.remote_calls))
        result.files = sorted(reported)
        result.texts = {f.path: f.text for f in self._files.values() if f is not None}
        return result

    def _call_graph(self, modules: list[Module]) -> CallGraph:
        """The local module calls of the loaded modules, followed transitively."""
        calls: list[LocalCall] = []
        seen = {self._locations[m.directory] for m in modules}
        stack = list(modules)
        while stack:
            module = stack.pop()
            base = self._locations[module.directory]
            for name, source in module.local_calls():
                call = module.calls[name]
                target = self._call_target(module, source, call.file.path, call.block.span.line)
                if target is None:
                    continue
                calls.append(LocalCall(base, target, name, call.file.path, call.block.span.line, source))
                child = self.module(target) if target not in seen else None
                seen.add(target)
                if child is not None:
                    stack.append(child)
        return CallGraph(tuple(calls))

    def _report_loops(self, graph: CallGraph) -> None:
        """An error for each group of module calls that loop: Terraform rejects them."""
        for loop in graph.loops():
            self._note(loop[0].path, describe_loop(loop), "error", loop[0].line)

    def _standalone(self, source: Source) -> list[Entity]:
        """A file read from standard input: a module of its own."""
        try:
            return self.file_entities(source.path, source.text)
        except ParseError as exc:
            self.notifications.append(Notification(source.path, exc.message, "error", exc.line))
        except Exception as exc:  # a defect must not end the scan
            self.note_failure(source.path, None, exc)
        return []

    def file_entities(self, path: str, text: str) -> list[Entity]:
        """The entities of one file evaluated as a module of its own; raises ParseError."""
        module = Module(".", [parse_file(path, text)])
        token = budget.activate(self.meter)
        try:
            return list(ModuleInstance(self, module, context=".").entities())
        finally:
            budget.deactivate(token)


def _pool_context():
    """How parse workers start without importing anything from the working directory, which may
    be the scanned checkout (a planted `multiprocessing/` there would run in a new interpreter):
    forked on Linux; elsewhere spawned with PYTHONSAFEPATH, which keeps the working directory off
    their `sys.path` (Python 3.11 and later); None, so files are parsed here, where neither is safe
    (fork is unsafe on macOS, and Python 3.10 has no PYTHONSAFEPATH)."""
    import multiprocessing
    import sys

    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    if sys.version_info >= (3, 11):
        os.environ["PYTHONSAFEPATH"] = "1"
        return multiprocessing.get_context("spawn")
    return None


def die_with_parent(parent: int) -> None:
    """In a parse worker: end when the scan that started it ends, even when it is killed (the
    kernel signals the worker on Linux; elsewhere a thread watches the parent)."""
    import signal
    import sys
    import threading
    import time

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="soc2lint-parent-watch", daemon=True).start()


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _tofu_twin(name: str) -> str | None:
    """The OpenTofu file that takes precedence over a Terraform file of the same name."""
    for ext, twin in ((".tf.json", ".tofu.json"), (".tf", ".tofu")):
        if name.endswith(ext):
            return name[: -len(ext)] + twin
    return None


def evaluate_text(path: str, text: str) -> list[Entity]:
    """Entities of one Terraform file on its own, without a cache (tests, standard input)."""
    return Project(cache=ParseCache(None)).file_entities(path, text)


def is_auto_var_file(name: str) -> bool:
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json"))


def auto_var_files(directory: Path) -> list[Path]:
    """The variable files Terraform loads by itself, in its order."""
    found = [directory / n for n in ("terraform.tfvars", "terraform.tfvars.json")
             if (directory / n).is_file()]
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith((".auto.tfvars", ".auto.tfvars.json")))
    except OSError:
        names = []
    return found + [directory / n for n in names if (directory / n).is_file()]


__all__ = ["Project", "TerraformResult", "auto_var_files", "evaluate_text", "is_auto_var_file"]
