"""The lab's pages, named once: app.py's navigation, every link between pages and every place that needs to know which page
shows a scenario's rows look a page up here."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Page:
    path: str  # relative to app.py; AppTest's switch_page takes the same path
    title: str
    icon: str
    url_path: str
    scenarios: tuple[str, ...] = ()  # the scenarios whose rows the page shows, in its order (each re-runs in a kernel of its own)


PAGES = {
    "home": Page("lab_pages/home.py", "Home", ":material/home:", "home"),
    "seed": Page("lab_pages/seed.py", "Seed the notebook", ":material/grass:", "seed"),
    "drift": Page("lab_pages/drift.py", "Rerun drift", ":material/trending_up:", "drift", ("global-model",)),
    "factory": Page("lab_pages/factory.py", "Factory + reseed", ":material/factory:", "factory",
                    ("factory-tf-seed", "factory-full-seed", "factory-python-tf-seed")),
    "restart": Page("lab_pages/restart.py", "Restart the kernel", ":material/restart_alt:", "restart", ("restart",)),
    "why": Page("lab_pages/why.py", "Why", ":material/help:", "why"),
    "versions": Page("lab_pages/versions.py", "Across versions and backends", ":material/timeline:", "versions"),
    "your_training": Page("lab_pages/your_training.py", "Your training", ":material/troubleshoot:", "your-training"),
    "machine": Page("lab_pages/machine.py", "Another machine", ":material/memory:", "machine"),
    "your_model": Page("lab_pages/your_model.py", "Your model", ":material/model_training:", "your-model"),
    "matrix": Page("lab_pages/matrix.py", "Recipe matrix", ":material/grid_view:", "matrix"),
    "compare": Page("lab_pages/compare.py", "Compare reports", ":material/compare_arrows:", "compare"),
}


# scenario -> the page that shows its rows (a scenario is on one page at most)
PAGE_OF = {scenario: name for name, page in PAGES.items() for scenario in page.scenarios}
STORY_PAGE_SCENARIOS = tuple(PAGE_OF)  # every scenario a story page shows, in page order


def navigation():
    return st.navigation([st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=name == "home") for name, p in PAGES.items()])


def link(name: str, label: str, icon: str | None = None, where=None) -> None:
    """An st.page_link to the page called `name`, with its own icon unless one is given."""
    (where or st).page_link(PAGES[name].path, label=label, icon=icon or PAGES[name].icon)


def next_page(name: str, label: str = "") -> None:
    st.divider()
    link(name, label or f"Next: {PAGES[name].title}", icon=":material/arrow_forward:")
