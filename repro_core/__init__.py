"""repro_core: run the seed article's notebook scenario in real Jupyter kernels.

Nothing here imports TensorFlow, Keras or Streamlit: training happens in kernels,
and the calling process (the Streamlit server, the CLI, pytest) only sends cells
and reads back JSON-like results.
"""

from repro_core.kernel import (
    CellError,
    CellResult,
    CellTimeout,
    KernelDied,
    KernelError,
    LabKernel,
    available_kernels,
)
from repro_core.records import KernelVersions, RunRecord, verdict
from repro_core.settings import ENGINES, SCENARIOS, StoryParams
from repro_core.story import Notebook, run_scenario, run_story

__all__ = [
    "ENGINES",
    "SCENARIOS",
    "CellError",
    "CellResult",
    "CellTimeout",
    "KernelDied",
    "KernelError",
    "KernelVersions",
    "LabKernel",
    "Notebook",
    "RunRecord",
    "StoryParams",
    "available_kernels",
    "run_scenario",
    "run_story",
    "verdict",
]
