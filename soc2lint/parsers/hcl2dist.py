"""Whether the `hcl2` module Python imports is a python-hcl2 release soc2lint supports.

soc2lint parses HCL with python-hcl2's grammar. Other distributions install a module of the same
name (Checkov's bc-python-hcl2 overwrites python-hcl2's files), whose grammar gives trees soc2lint
does not understand: Terraform files would parse to nothing. The distribution that owns the
imported grammar is the one whose installed-files record lists it with a matching hash.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_DISTRIBUTION = "python-hcl2"
SUPPORTED_RANGE = ">=7.3,<8"  # pyproject.toml declares the same (tests/test_hcl2_guard.py checks)
_CLAUSE = re.compile(r"^(>=|<=|==|!=|<|>)\s*(\d+(?:\.\d+)*)$")


@dataclass(frozen=True)
class Provider:
    """The distribution that installed the imported `hcl2` module (None when none is known)."""

    name: str | None
    version: str | None
    candidates: tuple[str, ...] = ()  # every distribution that claims the module

    @property
    def supported(self) -> bool:
        if self.name is None or self.version is None:
            return False
        return _normalised(self.name) == SUPPORTED_DISTRIBUTION and within(self.version, SUPPORTED_RANGE)

    def problem(self) -> str | None:
        """Why Terraform files cannot be parsed with this `hcl2`, or None."""
        if self.supported:
            return None
        wanted = f"{SUPPORTED_DISTRIBUTION} {SUPPORTED_RANGE}"
        if self.name is not None:
            found = f"{self.name} {self.version}"
        elif self.candidates:
            found = "of unknown origin (claimed by " + ", ".join(self.candidates) + ")"
        else:
            return f"not parsed: the hcl2 module is not installed (soc2lint needs {wanted})"
        return (f"not parsed: the installed hcl2 module is {found}, not {wanted}; another tool, such "
                "as Checkov, may have replaced it: install soc2lint in its own virtual environment")


@functools.lru_cache(maxsize=1)
def hcl2_provider() -> Provider:
    """Which distribution installed the `hcl2` module that `import hcl2` loads."""
    spec = importlib.util.find_spec("hcl2")
    if spec is None or not spec.origin:
        return Provider(None, None)
    grammar = Path(spec.origin).with_name("hcl2.lark").resolve()
    names = tuple(dict.fromkeys(importlib.metadata.packages_distributions().get("hcl2", ())))
    owners = [dist for dist in map(importlib.metadata.distribution, names) if _owns(dist, grammar)]
    if len(owners) != 1 and len(names) == 1:
        owners = [importlib.metadata.distribution(names[0])]  # no record to tell by: the only claimant
    if len(owners) != 1:
        return Provider(None, None, names)
    return Provider(owners[0].metadata["Name"], owners[0].version, names)


def _owns(dist: importlib.metadata.Distribution, grammar: Path) -> bool:
    """Whether `dist` installed `grammar` as it is now (its record's hash, when it has one)."""
    for file in dist.files or ():
        if file.name != "hcl2.lark" or Path(str(dist.locate_file(file))).resolve() != grammar:
            continue
        if file.hash is None or file.hash.mode != "sha256":
            return True
        try:
            digest = hashlib.sha256(grammar.read_bytes()).digest()
        except OSError:
            return False
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == file.hash.value
    return False


def within(version: str, specifier: str) -> bool:
    """Whether a release (`7.3.1`, `7.4.0rc1` counts as 7.4.0) meets `>=7.3,<8`-style clauses."""
    release = re.match(r"\d+(?:\.\d+)*", version)
    if release is None:
        return False
    mine = _numbers(release.group())
    for clause in specifier.split(","):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            return False
        op, bound = match.group(1), _numbers(match.group(2))
        width = max(len(mine), len(bound))
        left, right = mine + (0,) * (width - len(mine)), bound + (0,) * (width - len(bound))
        if not {">=": left >= right, "<=": left <= right, "==": left == right, "!=": left != right,
                "<": left < right, ">": left > right}[op]:
            return False
    return True


def _numbers(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


__all__ = ["SUPPORTED_DISTRIBUTION", "SUPPORTED_RANGE", "Provider", "hcl2_provider", "within"]
