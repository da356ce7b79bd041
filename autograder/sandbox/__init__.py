"""The sandbox a learner's kernel runs in (host side: this code starts and watches it).

``bubblewrap`` builds the sandbox (namespaces, read-only root, limits, the learners' kernel
environment) and checks that it isolates; ``slots`` gives each grading process its own uid and
cgroups; ``kernel`` drives an IPython kernel inside the sandbox over the Jupyter protocol.
``enforcement`` decides, per host, what holds each slot's budgets — ``cgroups`` (v2 or v1) or
the ``supervisor`` — and reports it; ``limits`` is their nbgrader configuration
(``c.SandboxLimits``); ``reclaim`` removes what a killed grader left behind.
"""

from autograder.sandbox.bubblewrap import (
    KERNEL_PACKAGES,
    SandboxConfig,
    SandboxUnavailable,
    WeakLimits,
    check_sandbox,
    default_kernel_env,
    kernel_argv,
    setup_kernel_env,
)
from autograder.sandbox.enforcement import format_report, limits_report
from autograder.sandbox.kernel import ExecResult, KernelStartError, LocalKernel, SandboxedKernel
from autograder.sandbox.slots import acquire_slot, current_slot

__all__ = [
    "KERNEL_PACKAGES",
    "ExecResult",
    "KernelStartError",
    "LocalKernel",
    "SandboxConfig",
    "SandboxUnavailable",
    "SandboxedKernel",
    "WeakLimits",
    "acquire_slot",
    "check_sandbox",
    "current_slot",
    "default_kernel_env",
    "format_report",
    "kernel_argv",
    "limits_report",
    "setup_kernel_env",
]
