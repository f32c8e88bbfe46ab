"""Checks on the repository itself: every README figure names where it comes from, and the rule for
tests that need the real data in ``../shared/data``.

README convention: every table with numbers in it and every image is followed (after at most a blank
line) by a line ``Source: `benchmarks/<script>.py` -> `benchmarks/results/<result>```; both files must
exist. A figure that no script here can reproduce says ``historical`` on its Source line, with why.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT, SHARED_DATA_ENV, require_shared_data

README = REPO_ROOT / "README.md"
CODE_SPAN = re.compile(r"`[^`]*`")
BENCHMARK_PATH = re.compile(r"`(benchmarks/[^`\s]+)[^`]*`")  # a script may carry arguments
NUMBER = re.compile(r"(?<![\w.])\d+(\.\d+)?(?![\w])")  # 3.5, 16, 0.89 but not 2D or x86_64


def figures(markdown: str) -> list[tuple[int, str, str | None]]:
    """``(line number, first line, Source line or None)`` of each table with numbers and each image."""
    lines = markdown.splitlines()
    found, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|") or line.startswith("!["):
            start = i
            while i + 1 < len(lines) and line.startswith("|") and lines[i + 1].startswith("|"):
                i += 1
            block = lines[start : i + 1]
            has_numbers = any(NUMBER.search(CODE_SPAN.sub("", row)) for row in block[2:]) or line.startswith("![")
            after = [row for row in lines[i + 1 : i + 3] if row.strip()]
            source = after[0] if after and after[0].startswith("Source:") else None
            if has_numbers:
                found.append((start + 1, line, source))
        i += 1
    return found


def test_every_readme_figure_names_its_script_and_result() -> None:
    blocks = figures(README.read_text())
    assert len(blocks) >= 6, "expected the README's measured tables and the learning-curve image"
    problems = []
    for line_no, first, source in blocks:
        where = f"README.md:{line_no} ({first[:50]})"
        if source is None:
            problems.append(f"{where}: no 'Source:' line under it")
            continue
        paths = BENCHMARK_PATH.findall(source)
        scripts = [p for p in paths if p.endswith(".py")]
        results = [p for p in paths if p.startswith("benchmarks/results/")]
        if not scripts and "historical" not in source:
            problems.append(f"{where}: names no benchmarks/ script")
        if not results and "historical" not in source:
            problems.append(f"{where}: names no benchmarks/results/ file")
        problems += [f"{where}: {p} does not exist" for p in paths if not (REPO_ROOT / p).exists()]
    assert problems == []


def test_every_benchmark_command_in_the_readme_exists() -> None:
    named = set(re.findall(r"python (benchmarks/\S+\.py)", README.read_text()))
    assert named, "the README cites its benchmark scripts"
    assert sorted(p for p in named if not (REPO_ROOT / p).is_file()) == []


def test_the_figure_finder_sees_a_missing_source() -> None:
    markdown = "| a | b |\n|---|---|\n| x | 1.5 |\n\nSome text.\n\n| cmd |\n|---|\n| `run --n 3` |\n"
    assert figures(markdown) == [(1, "| a | b |", None)]  # the second table has numbers only inside code
    sourced = "![c](benchmarks/results/c.png)\nSource: `benchmarks/c.py` -> `benchmarks/results/c.png`\n"
    assert figures(sourced)[0][2].startswith("Source:")


def test_missing_shared_data_skips_locally_and_fails_under_ci(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nowhere"):
        require_shared_data("media")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="nowhere"):
        require_shared_data("media")
    (tmp_path / "nowhere" / "media").mkdir(parents=True)
    assert require_shared_data("media") == tmp_path / "nowhere" / "media"


def test_the_real_data_is_there_when_ci_runs() -> None:
    """Under CI the real media and mocap must be found (a failure, not a skip, when they are not)."""
    for folder in ("media", "mocap"):
        assert Path(require_shared_data(folder)).is_dir()
