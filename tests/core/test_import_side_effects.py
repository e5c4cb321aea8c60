"""Importing any lab module changes nothing: no exit handler, no kernel provisioner until a pool or template starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import atexit, importlib, json, pkgutil
registered = []
register = atexit.register
atexit.register = lambda fn, *args, **kwargs: (registered.append(getattr(fn, "__module__", None) or ""), register(fn, *args, **kwargs))[1]
import repro_core
for module in pkgutil.walk_packages(repro_core.__path__, "repro_core."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
from jupyter_client.provisioning import KernelProvisionerFactory
from repro_core.kernels.fork_provisioner import PROVISIONER_NAME, ForkProvider
found = {"exit_handlers": [name for name in registered if name.startswith("repro_core")],
         "provisioner": PROVISIONER_NAME in KernelProvisionerFactory.provisioners}
ForkProvider()
found["provisioner_after_a_fork_provider"] = PROVISIONER_NAME in KernelProvisionerFactory.provisioners
print(json.dumps(found))
"""


def test_importing_every_repro_core_module_registers_nothing():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"exit_handlers": [], "provisioner": False, "provisioner_after_a_fork_provider": True}, found
