"""What /proc says about processes: their memory and their children (Linux; callers handle OSError)."""

from __future__ import annotations

import contextlib
from pathlib import Path


def kb_fields(path: str | Path) -> dict[str, int]:
    """The `Name:  123 kB` lines of a /proc file (smaps_rollup, meminfo) as {name: kB}."""
    fields: dict[str, int] = {}
    for line in Path(path).read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1] == "kB":
            fields[name.strip()] = int(parts[0])
    return fields


def pss_mb(pid: int) -> float:
    """Proportional set size in MB: a page shared by n processes counts 1/n in each."""
    return kb_fields(f"/proc/{pid}/smaps_rollup")["Pss"] / 1024.0


def uss_mb(pid: int) -> float:
    """Pages only this process maps, in MB: what ending it would free."""
    fields = kb_fields(f"/proc/{pid}/smaps_rollup")
    return (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / 1024.0


def child_pids(parents: set[int]) -> dict[int, int]:
    """{pid: parent pid} of every live process whose parent is in `parents`."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent in parents:
                found[int(entry.name)] = parent
    return found
