"""Machine traits that change the bits: the switches a run may set (oneDNN's custom operations, an instruction-set cap,
the thread count) and the fingerprint a kernel reports of itself. Same code and seed, other traits, other numbers:
TensorFlow's op determinism promises repeats only "on the same hardware and configuration". Plain data, no kernel here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from repro_core.validation import Refusal, choice, flag, whole_number

ONEDNN_CHOICES = ("default", "on", "off")  # TF_ENABLE_ONEDNN_OPTS unset, =1, =0
# oneDNN's names for ONEDNN_MAX_CPU_ISA (its CPU dispatcher control), oldest first; "default" sets none. Only these reach a cell.
ISA_CAPS = ("default", "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16", "AVX512_CORE_AMX")
THREADS_MAX = 64
ONEDNN_VARIABLE, ISA_VARIABLE = "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA"
# Read when TensorFlow is imported (oneDNN's switch) or oneDNN first runs (its cap): a kernel must start with them.
IMPORT_TIME_VARIABLES = (ONEDNN_VARIABLE, ISA_VARIABLE)
# The CPU features that pick kernels: TF >= 2.9 turns oneDNN on by default only with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX.
KERNEL_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx")
ONEDNN_DEFAULT_ON_FEATURES = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx")


@dataclass(frozen=True)
class MachineSettings:
    """The machine switches of one run, validated: `onednn` default/on/off, `threads` 0 (the library's default) or 1..64
    (TensorFlow's intra-op threads, torch.set_num_threads, XLA's CPU threads), `isa` default or a oneDNN ISA name, and
    `op_determinism` (TensorFlow's enable_op_determinism, PyTorch's use_deterministic_algorithms): a configuration trait too,
    and the one that people expect to make numbers portable."""

    onednn: str = "default"
    threads: int = 0
    isa: str = "default"
    op_determinism: bool = False

    def __post_init__(self) -> None:
        choice("oneDNN", self.onednn, ONEDNN_CHOICES)
        object.__setattr__(self, "threads", whole_number("threads", self.threads, 0, THREADS_MAX))
        choice("ISA cap", self.isa, ISA_CAPS)
        flag("op determinism", self.op_determinism)

    @property
    def is_default(self) -> bool:
        return self == MachineSettings()

    def variables(self) -> dict[str, str]:
        """The import-time variables these settings need (a kernel is started with them; the setup cell sets them too)."""
        found = {} if self.onednn == "default" else {ONEDNN_VARIABLE: "1" if self.onednn == "on" else "0"}
        return found | ({} if self.isa == "default" else {ISA_VARIABLE: self.isa})

    def words(self) -> str:
        """"oneDNN off · 1 thread · ISA cap AVX2", or "the machine's defaults"."""
        parts = [] if self.onednn == "default" else [f"oneDNN {self.onednn}"]
        parts += [] if not self.threads else [f"{self.threads} thread{'s' if self.threads > 1 else ''}"]
        parts += [] if self.isa == "default" else [f"ISA cap {self.isa}"]
        parts += ["op determinism"] if self.op_determinism else []
        return " · ".join(parts) or "the machine's defaults"

    def label(self) -> str:
        """A short id for tables and file names: "default", "onednn-off", "threads-1", "onednn-on+isa-AVX2"."""
        parts = [] if self.onednn == "default" else [f"onednn-{self.onednn}"]
        parts += [] if not self.threads else [f"threads-{self.threads}"]
        parts += [] if self.isa == "default" else [f"isa-{self.isa}"]
        parts += ["determinism"] if self.op_determinism else []
        return "+".join(parts) or "default"


def parse_machine_label(text: str) -> MachineSettings:
    """The inverse of MachineSettings.label ("onednn-off+threads-1"); Refusal naming the allowed parts otherwise."""
    values: dict[str, object] = {}
    for part in str(text).split("+"):
        key, _, value = part.partition("-")
        if part == "default":
            continue
        if part == "determinism":
            values["op_determinism"] = True
            continue
        if key == "onednn":
            values["onednn"] = value
        elif key == "threads" and value.isdigit():
            values["threads"] = int(value)
        elif key == "isa":
            values["isa"] = value
        else:
            raise Refusal(f"a machine setting looks like default, onednn-off, threads-1 or isa-AVX2 (joined with +), got {part[:40]!r}")
    return MachineSettings(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Fingerprint:
    """What decides a kernel's numerics, as the kernel itself reports it (recipes.cells.ENVIRONMENT_CELL reads it).
    Text and numbers only: "" where a trait does not apply (no TensorFlow, no GPU). `onednn` is whether oneDNN's custom
    operations are on in that process (TensorFlow's own IsMKLEnabled), not what was asked for."""

    cpu: str = ""  # the CPU model name
    cpu_features: str = ""  # those of KERNEL_FEATURES the CPU has, space-separated
    cpus: int = 0  # the cores this process may run on
    onednn: str = ""  # "on" / "off" as TensorFlow decided; "" without TensorFlow
    onednn_setting: str = ""  # TF_ENABLE_ONEDNN_OPTS as the process sees it ("" unset)
    isa_cap: str = ""  # ONEDNN_MAX_CPU_ISA as the process sees it ("" none)
    intra_op_threads: int = 0  # TensorFlow's intra-op threads (0 = one per core)
    inter_op_threads: int = 0
    op_determinism: bool = False
    device: str = "CPU"
    gpu: str = ""  # model, driver and cuDNN where there is a GPU
    gpu_driver: str = ""
    cudnn: str = ""
    xla_flags: str = ""  # JAX: XLA_FLAGS as the process sees it
    torch_threads: int = 0  # PyTorch: torch.get_num_threads()
    torch_deterministic: bool = False

    @classmethod
    def from_probe(cls, probe: Mapping[str, object]) -> Fingerprint:
        """From the environment cell's `machine` dict; unknown keys are ignored, missing ones keep their defaults."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in probe.items():
            if key not in known:
                continue
            kind = known[key]
            if kind == "bool":
                values[key] = bool(value)
            elif kind == "int":
                values[key] = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
            else:
                values[key] = str(value)[:200]
        return cls(**values)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def as_text(self) -> dict[str, str]:
        """Every trait as text (a report's machine block: what an upload is read back as)."""
        return {key: _text(value) for key, value in asdict(self).items()}

    @property
    def threads(self) -> str:
        """The threads the backend computes with, in words: "2 intra-op threads", "default (2 cores)"."""
        if self.torch_threads:
            return f"{self.torch_threads} torch thread{'s' if self.torch_threads > 1 else ''}"
        if self.intra_op_threads:
            return f"{self.intra_op_threads} intra-op thread{'s' if self.intra_op_threads > 1 else ''}"
        return f"default ({self.cpus} core{'s' if self.cpus != 1 else ''})" if self.cpus else "default"

    def summary(self) -> str:
        """One line: "AMD EPYC [avx2] · oneDNN off · ISA cap none · default (2 cores) · op determinism off · CPU"."""
        onednn = f"oneDNN {self.onednn}" if self.onednn else "no oneDNN (not TensorFlow)"
        xla = f" · XLA_FLAGS {self.xla_flags}" if self.xla_flags else ""
        gpu = f" · {self.gpu}" if self.gpu else ""
        return (f"{self.cpu or 'CPU ?'} [{self.cpu_features or 'none of ' + '/'.join(KERNEL_FEATURES)}] · {onednn} · "
                f"ISA cap {self.isa_cap or 'none'} · {self.threads} · op determinism {'on' if self.op_determinism else 'off'} · "
                f"{self.device}{gpu}{xla}")  # fmt: skip

    def compact(self) -> str:
        """What a record carries so rows of other traits are never judged together: the traits that change the bits
        (not the CPU model's name)."""
        return (f"features={self.cpu_features.replace(' ', ',') or '-'};onednn={self.onednn or '-'};isa={self.isa_cap or '-'};"
                f"intra={self.intra_op_threads};cpus={self.cpus};torch={self.torch_threads};xla={self.xla_flags or '-'};"
                f"det={int(self.op_determinism)};device={self.device}")  # fmt: skip


_COMPACT_WORDS = {"features": "CPU features", "onednn": "oneDNN", "isa": "ISA cap", "intra": "intra-op threads", "cpus": "usable cores",
                  "torch": "torch threads", "xla": "XLA_FLAGS", "det": "op determinism", "device": "device"}  # fmt: skip


def compact_changes(a: str, b: str) -> list[str]:
    """What differs between two records' traits (Fingerprint.compact()), in words: ["oneDNN off → on", "intra-op threads 2 → 1"]."""
    left, right = (dict(part.split("=", 1) for part in text.split(";") if "=" in part) for text in (a, b))
    return [f"{_COMPACT_WORDS.get(key, key)} {left.get(key, '?')} → {right.get(key, '?')}"
            for key in dict.fromkeys([*left, *right]) if left.get(key) != right.get(key)]  # fmt: skip


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def traits_key(machine: Mapping[str, object]) -> tuple[str, ...]:
    """What makes two machine blocks comparable ("like with like"): the traits that pick kernels, never the CPU's name."""
    keys = ("cpu_features", "onednn", "isa_cap", "intra_op_threads", "cpus", "op_determinism", "device", "xla_flags", "torch_threads")
    return tuple(_text(machine.get(key, "")) for key in keys)


# -- why two runs differ ---------------------------------------------------------------------------------
# Each trait a report's machine block holds, in the order differences are named (switches first, then the CPU).
_TRAITS = (
    ("onednn", "oneDNN"),
    ("isa_cap", "ISA cap"),
    ("intra_op_threads", "intra-op threads"),
    ("inter_op_threads", "inter-op threads"),
    ("torch_threads", "torch threads"),
    ("xla_flags", "XLA_FLAGS"),
    ("op_determinism", "op determinism"),
    ("torch_deterministic", "torch deterministic algorithms"),
    ("cpus", "usable cores"),
    ("cpu_features", "CPU features"),
    ("device", "device"),
    ("gpu", "GPU"),
    ("gpu_driver", "GPU driver"),
    ("cudnn", "cuDNN"),
    ("cpu", "CPU model"),
)
_NONE_WORDS = {"isa_cap": "none", "xla_flags": "none"}
_THREAD_KEYS = ("intra_op_threads", "inter_op_threads", "torch_threads")


def _trait_words(key: str, value: str) -> str:
    if key in _THREAD_KEYS and value in ("", "0"):
        return "default"
    return value or _NONE_WORDS.get(key, "unknown")


def trait_differences(a: Mapping[str, object], b: Mapping[str, object]) -> list[str]:
    """"oneDNN on in A, off in B", "CPU features: A has avx512_vnni, B lacks it": each trait two machine blocks disagree on,
    switches first. Blocks from before fingerprints (no `onednn` key in either) give nothing to compare."""
    found = []
    for key, label in _TRAITS:
        if key not in a and key not in b:
            continue
        left, right = _text(a.get(key, "")), _text(b.get(key, ""))
        if left == right:
            continue
        if key == "cpu_features":
            only_a = sorted(set(left.split()) - set(right.split()))
            only_b = sorted(set(right.split()) - set(left.split()))
            parts = ([f"A has {', '.join(only_a)}, B lacks it"] if only_a else []) + ([f"B has {', '.join(only_b)}, A lacks it"] if only_b else [])
            found.append(f"{label}: {'; '.join(parts)}")
            continue
        found.append(f"{label} {_trait_words(key, left)} in A, {_trait_words(key, right)} in B")
    return found


def block_summary(machine: Mapping[str, object]) -> str:
    """One line from a report's machine block (text values), "" for a block from before fingerprints."""
    if "onednn" not in machine:
        return ""
    get = lambda key: _text(machine.get(key, ""))  # noqa: E731
    threads = get("torch_threads") if get("torch_threads") not in ("", "0") else get("intra_op_threads")
    threads_words = "default threads" if threads in ("", "0") else f"{threads} thread(s)"
    onednn = f"oneDNN {get('onednn')}" if get("onednn") else "no oneDNN"
    xla = f" · XLA_FLAGS {get('xla_flags')}" if get("xla_flags") else ""
    return (f"{get('cpu') or 'CPU ?'} [{get('cpu_features') or 'no AVX2/AVX-512'}] · {get('cpus') or '?'} cores · {onednn} · "
            f"ISA cap {get('isa_cap') or 'none'} · {threads_words} · op determinism {get('op_determinism') or '?'} · {get('device') or '?'}{xla}")


DEFAULT_MACHINE = MachineSettings()  # the machine's own defaults: no switch set


# The machine settings screens offer (a matrix axis, the Another machine page), as labels; the switches read at import
# (oneDNN, the ISA cap) are TensorFlow's, so a JAX or PyTorch kernel is offered only the thread counts.
MACHINE_PRESETS = ("default", "onednn-on", "onednn-off", "threads-1", "threads-2", "onednn-on+isa-AVX2", "onednn-on+isa-SSE41",
                   "determinism", "threads-1+determinism", "threads-2+determinism")


def presets_for(tensorflow: bool) -> tuple[str, ...]:
    """The presets a kernel can take: all on TensorFlow, the thread counts elsewhere (op determinism is TensorFlow's and
    PyTorch's; JAX's CPU backend has no switch for it, so it is offered on TensorFlow only)."""
    return tuple(label for label in MACHINE_PRESETS if tensorflow or parse_machine_label(label).variables() == {} and "determinism" not in label)


def machine_words(machine: Mapping[str, object]) -> str:
    """Where something was measured, from a machine block: "AMD EPYC (avx2; 2 cores; CPU)" ("" without a CPU name). The
    switches (oneDNN, threads) are a run's, not the machine's, and are left out."""
    cpu = _text(machine.get("cpu", ""))
    if not cpu:
        return ""
    if "onednn" not in machine:
        return f"{cpu} (no fingerprint recorded)"
    features = _text(machine.get("cpu_features", "")) or "no AVX2 or AVX-512"
    return f"{cpu} ({features}; {_text(machine.get('cpus', '?'))} cores; {_text(machine.get('device', '?'))})"
