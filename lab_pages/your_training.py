"""Your training: your own script (or a shipped example, or a model described on Your model), run twice with the lab's
recorder; where the runs first part, why, how far apart, and the line that fixes it."""

from __future__ import annotations

import streamlit as st

from lab_ui import clicks, pages, session
from lab_ui.downloads import UPLOAD_MB, diagnose_buttons
from lab_ui.results_view import code_block
from lab_ui.server import hosting
from lab_ui.sidebar import params
from lab_ui.widgets import edited, kept, remember
from repro_core.experiments.diagnose import RUNS_MAX, DiagnoseOptions, Diagnosis, ScriptRaised, setup_cells
from repro_core.kernels.hosting import CodeRefused, check_code_allowed
from repro_core.kernels.kernelspecs import backend_for, kernelspec_info
from repro_core.recipes.scripts import EXAMPLES, Script, ScriptProblem, load_script
from repro_core.validation import Refusal
from repro_core.views import diagnose as view
from repro_core.vocabulary import backend_label, backend_release

RESULT = "train_result"  # kept in the lab: the last Diagnosis, or the ScriptProblem that stopped it
HANDOFF = "train_handoff"  # kept in the lab: a script built on Your model from a spec (source text, file name)
SOURCES = {"example": "A shipped example", "typed": "Paste your code", "uploaded": "Upload a .py or .ipynb", "spec": "From Your model"}
state, current, settings = st.session_state, params(), hosting()

st.title(pages.PAGES["your_training"].title)
st.markdown(
    """
Your script runs **twice, each in a fresh kernel**, with a recorder that wraps `Model.fit`: it keeps each fit's initial
weights, the data handed to it, every layer's weights after each step, and the final weights. The lab then says where the
two runs **first part**, why, how far apart they are, and (with the doctor) the **one line that fixes it**, checked by
running again.
"""
)
pages.link("your_model", "No code to hand? Describe a small dense network on Your model, then diagnose it here.")

handoff = session.kept(state, HANDOFF)
offered = [name for name in SOURCES if name != "spec" or handoff is not None]
source = st.radio("Your training", offered, format_func=SOURCES.get, horizontal=True,
                  key=kept(state, "train_source", "spec" if handoff is not None else "example"))  # fmt: skip
code_allowed = settings.allow_code
script: Script | None = None
problem: str | None = None
try:
    if source == "example":
        name = st.selectbox("Example", list(EXAMPLES), format_func=lambda file: f"{file}: {EXAMPLES[file].title}",
                            key=kept(state, "train_example", next(iter(EXAMPLES))))  # fmt: skip
        script = EXAMPLES[name].load()
    elif source == "spec":
        text, name = handoff
        script = load_script(text, name, "spec")
    elif not code_allowed:
        check_code_allowed(settings, source)
    elif source == "typed":
        text = st.text_area("Your script (Python)", height=260, key=kept(state, "train_code", ""),
                            placeholder="import keras\n...\nmodel.fit(x, y)",
                            help="It runs in a kernel of its own, as `python script.py` would")  # fmt: skip
        script = load_script(text, "typed.py", "typed") if text.strip() else None
    else:
        upload = st.file_uploader("A .py script or an .ipynb notebook", type=["py", "ipynb"], key="train_upload",
                                  max_upload_size=UPLOAD_MB)  # fmt: skip
        if upload is not None:
            data = upload.getvalue()  # load_script refuses more than SCRIPT_MAX_BYTES, the uploader's own limit
            script = load_script(data, upload.name, "uploaded")
except CodeRefused as exc:
    st.warning(str(exc), icon=":material/lock:")
except (ScriptProblem, OSError) as exc:
    problem = str(exc)
    st.error(f"Not a script the lab can run: {exc}", icon=":material/error:")

kernel = session.current_kernel(state)
backend = backend_for(kernelspec_info(kernel))
needs = EXAMPLES[script.name].backend if script is not None and script.kind == "example" and script.name in EXAMPLES else None
if needs and needs != backend:
    st.info(f"This example runs Keras on {backend_label(needs)}; the sidebar's kernel runs {backend_label(backend)}. Pick a "
            f"{backend_label(needs)} kernel in the sidebar to run it.", icon=":material/info:")  # fmt: skip

left, middle, right = st.columns([1, 2, 2])
runs = left.number_input("Runs", min_value=2, max_value=RUNS_MAX, step=1, key=kept(state, "train_runs", max(2, current.reruns), follows=True),
                         on_change=edited(state, "train_runs"),
                         help=f"2 to {RUNS_MAX}; follows the sidebar's reruns until you change it")  # fmt: skip
doctor = middle.toggle("Find the fix (the doctor)", key=kept(state, "train_doctor", True),
                       help="Re-run with the lab's seed switches to find the smallest set that makes the runs repeat, "
                       "and measure its cost")  # fmt: skip
same_kernel = right.toggle("All runs in one kernel", key=kept(state, "train_same_kernel", False),
                           help="Re-run the script in ONE kernel, as re-running a notebook cell does (default: a fresh kernel per run)")  # fmt: skip
remember(state, "train_source", "train_example", "train_code", "train_runs", "train_doctor", "train_same_kernel")
st.caption(f"The doctor's lines use the sidebar's seed, **{current.seed}**. Each run may take at most {settings.cell_timeout:g} s.")

options: DiagnoseOptions | None = None
if script is not None:
    try:
        options = DiagnoseOptions(runs=runs, kernel=kernel, engine=current.engine, backend=backend, same_kernel=same_kernel,
                                  doctor=doctor, seed=current.seed, timeout=settings.cell_timeout)  # fmt: skip
    except Refusal as exc:
        st.error(f"Settings not usable: {exc}", icon=":material/error:")
    with st.expander(f"Your script ({script.name})", expanded=script.kind == "example"):
        code_block(script.source)
    with st.expander("The cells that run before it, in each kernel (the recorder among them)"):
        if options is not None:
            for source_text in setup_cells(options):
                code_block(source_text)

run = st.button("Run and diagnose", key="train_run", icon=":material/play_arrow:", type="primary",
                disabled=script is None or options is None or bool(needs and needs != backend))  # fmt: skip
if run and script is not None and options is not None:
    found = clicks.run_diagnose(script, options)
    if found is not None:
        session.keep(state, RESULT, found)


def show(found: Diagnosis) -> None:
    v = found.versions
    st.caption(f"{found.script.name} · {backend_release(v.backend, v.backend_release)} · {v.engine} {v.keras} · Python {v.python} · "
               f"kernel {v.kernelspec} · {len(found.traces)} runs in {found.seconds:.1f} s")  # fmt: skip
    (st.success if found.repeats else st.error)(view.verdict_line(found))
    if not found.repeats:
        st.markdown("**Why**")
        st.code(found.cause, language=None, wrap_lines=True)  # it quotes the script's lines: shown as plain text
    if found.fix is not None:
        verb = "Replace" if found.fix.kind == "rewrite" else "Insert before"
        checked = ("checked: two runs repeat with it" + (f", in {found.fix.seconds_ratio:.2f}x the time" if found.fix.seconds_ratio else "")
                   if found.fix.verified else "not checked yet: turn on the doctor")  # fmt: skip
        st.markdown(f"**The fix** · {verb.lower()} {found.script.where(found.fix.line)} · {checked}")
        st.code(f"# {found.fix.where}\n{found.fix.text.rstrip()}", language="python", wrap_lines=True)
    if found.doctor is not None:
        st.code(found.doctor.words, language=None, wrap_lines=True)
        st.dataframe([{"tried": t.fix.text.strip().splitlines()[-1], "repeats": t.repeats, "still parts at": t.stage or "",
                       "seconds": round(t.seconds, 2)} for t in found.doctor.trials], hide_index=True, key="train_trials")  # fmt: skip
    if found.difference is not None:
        st.markdown(f"**How far apart** at the first divergence (point {found.difference.point}); {found.difference.note}.")
        st.dataframe(view.difference_frame(found.difference), hide_index=True, key="train_difference",
                     column_config={view.COL_MAX_ABS: st.column_config.NumberColumn(format="%.3e"),
                                    view.COL_ULPS: st.column_config.NumberColumn(format="%.0f")})  # fmt: skip
        if any(row["max_abs"] > 0 for row in found.difference.growth):
            st.altair_chart(view.growth_chart(found.difference, "Largest |difference| per layer, step by step (log scale)"), width="stretch")
    st.markdown("**Every run's fingerprints** (SHA-256 of each stage's weight digests)")
    st.dataframe(view.runs_frame(found), hide_index=True, key="train_runs_table")
    with st.expander("The script's output (run 1)"):
        st.code(found.traces[0].stdout or "(nothing printed)", language=None)
    diagnose_buttons(found)


result = session.kept(state, RESULT)
with st.container(key="train_results"):
    if result is None:
        st.caption("Nothing diagnosed yet: pick a script and press Run and diagnose.")
    elif isinstance(result, ScriptProblem):
        st.error(f"The script could not be diagnosed: {result}", icon=":material/error:")
        if isinstance(result, ScriptRaised):
            st.code(result.traceback, language=None)
    else:
        show(result)
