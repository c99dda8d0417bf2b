"""The repository's documents stand on their own: every contract section the code cites
(``§N.N``) exists in ``docs/contract.md``, and every document a file names is in the tree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
HEADING = re.compile(r"^#+ (\d+(?:\.\d+)*)\.? ", re.MULTILINE)
CITATION = re.compile(r"§\s?(\d+(?:\.\d+)*)")
DOCUMENT = re.compile(r"(?<![\w/.-])((?:\.\./)*[\w./-]*[A-Za-z0-9_-]+\.md)\b")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [ROOT / name for name in names
            if name.endswith((".py", ".md", ".html", ".toml", ".txt")) or name.startswith("bin/")]


def test_every_cited_contract_section_exists() -> None:
    sections = set(HEADING.findall(CONTRACT.read_text()))
    assert {"1.1", "3.5", "4.10.1", "7.5", "10"} <= sections
    dangling = []
    cited = 0
    for path in tracked_text_files():
        for number in CITATION.findall(path.read_text(errors="replace")):
            cited += 1
            if number.rstrip(".") not in sections:
                dangling.append(f"{path.relative_to(ROOT)}: §{number}")
    assert cited > 100
    assert dangling == []


def test_every_named_document_is_in_the_repository() -> None:
    known = {path.name for path in ROOT.rglob("*.md") if ".venv" not in path.parts}
    missing = []
    for path in tracked_text_files():
        for name in DOCUMENT.findall(path.read_text(errors="replace")):
            if name.startswith("../") or Path(name).name not in known:
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert missing == []
