"""repro_core: run the seed article's notebook in real Jupyter kernels and judge reruns by their checksums.

Layers, each importing only those below it (import-linter checks this; see pyproject.toml):
- `views`: pandas tables and Altair charts of results;
- `results`: reports, exports (CSV, JSON, .ipynb) and the committed timeline;
- `experiments`: the one engine (`runner.CellRunner`) and the story, matrix and audit built on it;
- `recipes`: validated settings, the model spec and every cell's source;
- `kernels`: one Jupyter kernel, its environment, the providers that start kernels and the pool that owns them;
- `records`, `vocabulary`: what a run leaves and what it means; the names of engines, recipes and scenarios;
- `validation`: the checks every untrusted value passes.

Nothing here imports TensorFlow, Keras or Streamlit: training happens in kernels, and the calling
process (the Streamlit server, the CLI, pytest) only sends cells and reads back results.
"""
