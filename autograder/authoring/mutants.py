"""A problem set's bank of wrong implementations (``problem_sets/<ps>/mutants.py``).

Each ``Mutant`` is the solution with one known mistake: ``code`` is appended to the solution
cell ``cell`` (redefining a function, a class or an answer). Graded in one batch with the
solution and the blank release (``tests/test_mutation_banks.py``), a mutant must lose points in
exactly the test cells ``loses`` (scoring zero in those of ``zero``), keep full marks in every
other, and its feedback must name the mistakes in ``diagnoses`` (test cell → the ``Mistake``
name the hidden checks give it). The bank is the safety net of the hidden checks: a check that
stops recognising a mistake, or a part that starts leaking credit, fails it.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Mutant", "load_mutants"]


@dataclass(frozen=True)
class Mutant:
    """One wrong implementation. ``code`` is the text appended to the solution cell ``cell``,
    or a function of the solution cells' sources (grade id → source) that returns it."""

    name: str
    cell: str
    code: str | Callable[[Mapping[str, str]], str]
    loses: AbstractSet[str]  # any set of grade ids; kept as a frozenset
    diagnoses: Mapping[str, str] = field(default_factory=dict)
    zero: AbstractSet[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "loses", frozenset(self.loses))
        object.__setattr__(self, "zero", frozenset(self.zero))
        if not self.zero <= self.loses:
            raise ValueError(f"{self.name}: zero must be a subset of loses")
        if not set(self.diagnoses) <= self.loses:
            raise ValueError(f"{self.name}: a diagnosis is named in a part it does not lose")

    def appended_code(self, solutions: Mapping[str, str]) -> str:
        """The code to append, given the solution cells' sources."""
        return self.code(solutions) if callable(self.code) else self.code


def load_mutants(folder: Path) -> list[Mutant]:
    """``MUTANTS`` of ``<folder>/mutants.py`` (instructor code), or [] when there is none."""
    path = folder / "mutants.py"
    if not path.is_file():
        return []
    name = f"_course_mutants_{folder.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    mutants = list(module.MUTANTS)
    names = [m.name for m in mutants]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: mutant names must be unique")
    return mutants
