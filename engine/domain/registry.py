"""The workflow definitions in force, each with its one shared machine.

Built-in definitions ship in ``workflows/``; a deployment can add or override
them with directories on ``DUBAN_WORKFLOW_PATH`` (a changed deadline policy is
a YAML edit, not a release).
"""

from __future__ import annotations

from pathlib import Path

from duban.workflows import BUILTIN_DIR

from .errors import UnknownWorkflow
from .machine import WorkflowMachine
from .workflow import WorkflowSpec, load_workflow_file


class WorkflowRegistry:
    def __init__(self, specs: list[WorkflowSpec]) -> None:
        self._machines = {s.name: WorkflowMachine(s) for s in specs}

    @classmethod
    def from_dirs(cls, extra_dirs: list[Path] | None = None) -> WorkflowRegistry:
        by_name: dict[str, WorkflowSpec] = {}
        for directory in [BUILTIN_DIR, *(extra_dirs or [])]:
            for path in sorted(directory.glob("*.yaml")):
                spec = load_workflow_file(path)
                by_name[spec.name] = spec  # later directories override the built-ins
        return cls(list(by_name.values()))

    def machine(self, name: str) -> WorkflowMachine:
        try:
            return self._machines[name]
        except KeyError:
            raise UnknownWorkflow(name=name, known=sorted(self._machines)) from None

    def spec(self, name: str) -> WorkflowSpec:
        return self.machine(name).spec

    def find(self, name: str) -> WorkflowSpec | None:
        """For reading stored tasks: a definition that was removed must not make the ledger unreadable."""
        machine = self._machines.get(name)
        return machine.spec if machine else None

    @property
    def specs(self) -> list[WorkflowSpec]:
        return [m.spec for m in self._machines.values()]

    def names(self) -> list[str]:
        return sorted(self._machines)
