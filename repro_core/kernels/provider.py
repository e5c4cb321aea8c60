"""Where a pool's kernels come from: the one seam between the pool and how kernel processes are made."""

from __future__ import annotations

from abc import ABC, abstractmethod

from repro_core.kernels.environment import KernelKind, environment_of
from repro_core.kernels.kernel import AfterCell, LabKernel


class KernelProvider(ABC):
    @abstractmethod
    def new_kernel(self, kind: KernelKind, owner: str = "") -> LabKernel:
        """A kernel of `kind` for `owner` (a session; a gateway names the kernel's user after it), not started yet."""

    def prestart(self, kind: KernelKind) -> None:
        """Get ready to start kernels of `kind` quickly (e.g. when the server starts); nothing to do by default."""
        return None


class SpawnProvider(KernelProvider):
    """Every kernel a new interpreter started from its kernelspec, with the allow-listed environment."""

    def __init__(self, after_cell: AfterCell | None = None) -> None:
        self.after_cell = after_cell

    def new_kernel(self, kind: KernelKind, owner: str = "") -> LabKernel:
        return LabKernel(kind.kernelspec, environment_of(kind), after_cell=self.after_cell)
