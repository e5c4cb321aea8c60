"""The timeline tool (`python -m timeline`): provisions one venv per TensorFlow release and writes the reports the app reads.
Offline tooling: it imports repro_core; repro_core never imports it. Its pins live in timeline/requirements/."""
