"""The sandbox a learner's kernel runs in (host side: this code starts and watches it).

``bubblewrap`` builds the sandbox (namespaces, read-only root, limits, the learners' kernel
environment) and checks that it isolates; ``slots`` gives each grading process its own uid and
cgroups; ``kernel`` drives an IPython kernel inside the sandbox over the Jupyter protocol.
"""

from autograder.sandbox.bubblewrap import (
    KERNEL_PACKAGES,
    SandboxConfig,
    SandboxUnavailable,
    check_sandbox,
    default_kernel_env,
    kernel_argv,
    setup_kernel_env,
)
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
    "acquire_slot",
    "check_sandbox",
    "current_slot",
    "default_kernel_env",
    "kernel_argv",
    "setup_kernel_env",
]
