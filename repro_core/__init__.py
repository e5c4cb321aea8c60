"""repro_core: run the seed article's notebook in real Jupyter kernels and judge reruns by their checksums.

Layers, top to bottom (import-linter holds them; pyproject.toml): views, results, experiments, recipes, kernels,
then the leaves records and vocabulary, then validation. Nothing here imports TensorFlow, Keras or Streamlit:
kernels train, and the calling process (the Streamlit server, the CLI, pytest) only sends cells and reads results.
"""
