"""The README a newcomer reads in five minutes, and docs whose links lead somewhere: every relative link in README.md and
docs/*.md names a file of the repository (and, with a #fragment, a heading in it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_CHARS = 12_000
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def links(text: str) -> list[str]:
    """Link targets of a Markdown text, leaving out code blocks and code spans (shell lines, `[x](y)` as an example)."""
    return LINK.findall(INLINE_CODE.sub("", FENCE.sub("", text)))


def anchors(text: str) -> set[str]:
    """GitHub's fragment for each heading: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    for title in HEADING.findall(FENCE.sub("", text)):
        words = re.sub(r"[^\w\- ]", "", title.replace("`", "").strip().lower())
        found.add(words.replace(" ", "-"))
    return found


def repository_files() -> set[Path] | None:
    """Files git knows here (tracked, or new and not ignored), so a link into .venv or a local artefact does not count;
    None outside a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return {ROOT / line for line in listed.stdout.splitlines()}


def test_the_readme_is_read_in_five_minutes():
    size = len((ROOT / "README.md").read_text(encoding="utf-8"))
    assert size <= README_MAX_CHARS, f"README.md has {size:,} characters; move detail to docs/ (at most {README_MAX_CHARS:,})"


def test_the_docs_exist_and_the_readme_links_each():
    readme = links((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(DOCS) > 1
    for doc in DOCS[1:]:
        assert f"docs/{doc.name}" in readme, f"README.md does not link docs/{doc.name}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_names_a_file_of_the_repository(doc):
    files = repository_files()
    folders = {parent for path in files for parent in path.parents} if files is not None else set()
    text = doc.read_text(encoding="utf-8")
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: and the like
            continue
        path_part, _, fragment = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(f"{target}: no such file")
        elif files is not None and path not in files and path not in folders:
            broken.append(f"{target}: not a file of the repository")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading #{fragment} in {path.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_link_checker_sees_a_broken_link_and_skips_code(tmp_path):
    text = "See [a](missing.md) and `[b](also-missing.md)`.\n\n```md\n[c](nowhere.md)\n```\n## A heading, with `code`\n"
    assert links(text) == ["missing.md"]
    assert anchors(text) == {"a-heading-with-code"}
