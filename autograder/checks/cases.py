"""Hidden cases: the arguments of one call, their tags, and the seed they are drawn from."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "part_seed"]


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments.

    ``visible`` cases mirror the notebook's visible tests and may show their expected value in
    feedback; ``label`` describes them. ``key`` is data for the comparison that is not an
    argument (which matrix entry a case grades, the cotangent of a gradient, the rotations an
    equivariance probe applied). ``tags`` name what is special about the case, for the
    comparisons and the mistakes to read: ``"float32"`` (``checks.precision.FLOAT32``: the
    arguments are in single precision, see ``float32_variant``), or a problem set's own words
    (``"tiny"`` angles, ``"pi"`` half turns, ``"outliers"``…).
    """

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    visible: bool = False
    key: Any = None
    tags: tuple[str, ...] = ()


def part_seed(*words: str) -> int:
    """A 64-bit seed from words such as (course, assignment, learner, run id, grade id)."""
    digest = hashlib.sha256("\x1f".join(words).encode()).digest()
    return int.from_bytes(digest[:8], "little")
