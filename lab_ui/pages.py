"""The lab's pages, named once: app.py's navigation and every link between pages look a page up here by name."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Page:
    path: str  # relative to app.py; AppTest's switch_page takes the same path
    title: str
    icon: str
    url_path: str


PAGES = {
    "home": Page("lab_pages/home.py", "Home", ":material/home:", "home"),
    "seed": Page("lab_pages/seed.py", "Seed the notebook", ":material/grass:", "seed"),
    "drift": Page("lab_pages/drift.py", "Rerun drift", ":material/trending_up:", "drift"),
    "factory": Page("lab_pages/factory.py", "Factory + reseed", ":material/factory:", "factory"),
    "restart": Page("lab_pages/restart.py", "Restart the kernel", ":material/restart_alt:", "restart"),
    "why": Page("lab_pages/why.py", "Why", ":material/help:", "why"),
    "versions": Page("lab_pages/versions.py", "Across versions and backends", ":material/timeline:", "versions"),
    "machine": Page("lab_pages/machine.py", "Another machine", ":material/memory:", "machine"),
    "your_model": Page("lab_pages/your_model.py", "Your model", ":material/model_training:", "your-model"),
    "matrix": Page("lab_pages/matrix.py", "Recipe matrix", ":material/grid_view:", "matrix"),
    "compare": Page("lab_pages/compare.py", "Compare reports", ":material/compare_arrows:", "compare"),
}


def navigation():
    return st.navigation([st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=name == "home") for name, p in PAGES.items()])


def link(name: str, label: str, icon: str | None = None, where=None) -> None:
    """An st.page_link to the page called `name`, with its own icon unless one is given."""
    (where or st).page_link(PAGES[name].path, label=label, icon=icon or PAGES[name].icon)


def next_page(name: str, label: str = "") -> None:
    st.divider()
    link(name, label or f"Next: {PAGES[name].title}", icon=":material/arrow_forward:")
