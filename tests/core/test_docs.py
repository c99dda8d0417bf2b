"""The repository's documents stand on their own: every section the code cites (``§N.N`` of the
contract, ``SDK-WIRE §N.N`` of the newer-SDK notes) exists in ``docs/contract.md`` or
``docs/sdk-wire.md``, and every document a file names is in the tree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract.md"
SDK_WIRE = ROOT / "docs" / "sdk-wire.md"
HEADING = re.compile(r"^#+ (\d+(?:\.\d+)*)\.? ", re.MULTILINE)
NUMBER = r"§\s?\d+(?:\.\d+)*"
# "SDK-WIRE §3.4", "CONTRACT §3.2 / §4.2.3", "CONTRACT §3.9, §8.3, §8.6": a named run of citations.
NAMED_RUN = re.compile(rf"(SDK-WIRE|CONTRACT)\s*({NUMBER}(?:\s*(?:,|/|and|or)\s*{NUMBER})*)")
CITATION = re.compile(r"§\s?(\d+(?:\.\d+)*)")


def citations(text: str, default: str) -> list[tuple[str, str]]:
    """``(document, section)`` of every citation; unnamed ones belong to ``default``."""
    found = []
    for run in NAMED_RUN.finditer(text):
        document = "sdk-wire" if run[1] == "SDK-WIRE" else "contract"
        found += [(document, number) for number in CITATION.findall(run[2])]
    for number in CITATION.findall(NAMED_RUN.sub(" ", text)):
        found.append((default, number))
    return found
DOCUMENT = re.compile(r"(?<![\w/.-])((?:\.\./)*[\w./-]*[A-Za-z0-9_-]+\.md)\b")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [ROOT / name for name in names
            if name.endswith((".py", ".md", ".html", ".toml", ".txt")) or name.startswith("bin/")]


def test_every_cited_section_exists() -> None:
    contract = set(HEADING.findall(CONTRACT.read_text()))
    sdk_wire = set(HEADING.findall(SDK_WIRE.read_text()))
    assert {"1.1", "3.5", "4.10.1", "7.5", "10"} <= contract
    assert {"1.3", "3.4", "4.5.7"} <= sdk_wire
    dangling = []
    cited = 0
    headings = {"contract": contract, "sdk-wire": sdk_wire}
    for path in tracked_text_files():
        default = "sdk-wire" if path == SDK_WIRE else "contract"
        for document, number in citations(path.read_text(errors="replace"), default):
            cited += 1
            if number.rstrip(".") not in headings[document]:
                dangling.append(f"{path.relative_to(ROOT)}: {document} §{number}")
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
