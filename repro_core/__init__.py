"""repro_core: run the seed article's notebook in real Jupyter kernels and judge reruns by their checksums.

The sub-packages follow the path of a run:
- `kernels`: one Jupyter kernel, its environment, and the pool that owns every kernel of a server;
- `recipes`: validated settings, the recipe vocabulary (model x reseed x engine) and the cell sources;
- `experiments`: the one engine that drives a leased kernel, and the story, matrix and audit built on it;
- `results`: records, verdicts, reports and exports;
- `views`: pandas tables and Altair charts of results.

Nothing here imports TensorFlow, Keras or Streamlit at module level: training happens in kernels,
and the calling process (the Streamlit server, the CLI, pytest) only sends cells and reads back results.
"""
