"""A fuzz input: a small tree of files, one of which (the target) is the one being mutated."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """Files by relative path; `target` names the mutated one; `steps` says how it was made."""

    files: dict[str, bytes]
    target: str
    steps: tuple[str, ...] = field(default=())

    @property
    def data(self) -> bytes:
        return self.files[self.target]

    def with_data(self, data: bytes, step: str | None = None) -> Case:
        steps = (*self.steps, step) if step else self.steps
        return replace(self, files={**self.files, self.target: data}, steps=steps)

    @property
    def language(self) -> str:
        """yaml, workflow, hcl, tfvars or json: which parser the target file goes to."""
        name = self.target.lower()
        if name.endswith((".tf.json", ".tfvars.json")):
            return "json"
        if name.endswith(".tfvars"):
            return "tfvars"
        if name.endswith(".tf"):
            return "hcl"
        return "workflow" if name.startswith(".github/workflows/") else "yaml"

    def write(self, root: Path) -> None:
        """Write the tree under `root` (emptied first)."""
        if root.exists():
            shutil.rmtree(root)
        for name, content in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
