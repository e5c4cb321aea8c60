"""The gateway's kernel image (deploy/kernel/) must hold the stack the lab's own kernels run: its pins are a second
copy of requirements*.txt's, so this checks they agree, and that the kernelspec names the image the Dockerfile builds."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kernel"
KERNEL_STACK = {"tensorflow", "keras", "tf-keras", "ipykernel", "jupyter-client", "pandas", "scikit-learn", "pycryptodomex"}


def _pins(text: str) -> dict[str, str]:
    return {name.lower(): version for name, version in re.findall(r"^\s*([A-Za-z0-9_.-]+)==([^\s#\\]+)", text, re.M)}


def test_the_kernel_image_pins_what_the_lab_pins():
    requirements = {**_pins((ROOT / "requirements.txt").read_text()), **_pins((ROOT / "requirements-dev.txt").read_text())}
    image = _pins((DEPLOY / "Dockerfile").read_text())
    image.pop("jupyter-enterprise-gateway")  # the launchers' source tarball, not installed in the kernel
    assert set(image) == KERNEL_STACK
    assert {name: requirements.get(name) for name in image} == image, "deploy/kernel/Dockerfile and requirements*.txt disagree"


def test_the_kernelspec_runs_the_image_on_kubernetes_with_a_size():
    spec = json.loads((DEPLOY / "kernelspec" / "kernel.json").read_text())
    proxy = spec["metadata"]["process_proxy"]
    assert proxy["class_name"].endswith("KubernetesProcessProxy")
    built = re.search(r"docker build -t (\S+) deploy/kernel", (DEPLOY / "Dockerfile").read_text())
    assert built and proxy["config"]["image_name"] == built.group(1)
    assert {"KERNEL_CPUS", "KERNEL_MEMORY"} <= set(spec["env"])
