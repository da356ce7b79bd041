"""Hidden cases: the arguments of one call, and the seed they are drawn from."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "part_seed"]


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments. ``visible`` cases mirror the notebook's
    visible tests and may show their expected value in feedback; ``label`` describes them;
    ``key`` is for the comparison (e.g. which matrix entry a case grades)."""

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    visible: bool = False
    key: Any = None


def part_seed(*words: str) -> int:
    """A 64-bit seed from words such as (course, assignment, learner, run id, grade id)."""
    digest = hashlib.sha256("\x1f".join(words).encode()).digest()
    return int.from_bytes(digest[:8], "little")
