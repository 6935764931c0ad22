"""Terminal output never interprets data: problem lines keep their ``file:row:column`` form and
values such as ``:smile:`` or ``[bold]`` print verbatim (rich reads neither as emoji nor markup)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from cartscope.cli import app

GOOD = Path(__file__).resolve().parent / "good" / "days"


def test_row_100_and_emoji_codes_print_verbatim(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort"
    shutil.copytree(GOOD, cohort)
    labs = cohort / "labs.csv"
    lines = labs.read_text(encoding="utf-8").splitlines()
    filler = "P01,3,IL-6,12,pg/mL,,serum,patient"
    while len(lines) < 99:
        lines.append(filler)
    lines.append("P01,3,IL-6,:smile:,pg/mL,,serum,patient")  # line 100
    lines.append("P01,3,[bold]IL-6[/bold],1,:100:,,serum,patient")  # line 101
    labs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(cohort)])
    assert result.exit_code == 1
    out = result.output
    assert "labs.csv:100:value: error: ':smile:' is not a number" in out
    assert "labs.csv:101:unit: error: unknown unit ':100:'" in out
    assert "[bold]IL-6[/bold]" in out
    assert "\N{HUNDRED POINTS SYMBOL}" not in out and "\N{SMILING FACE WITH SMILING EYES}" not in out
    for line in out.splitlines():
        if ": error: " in line or ": warning: " in line:
            assert line.startswith("labs.csv:") or line.split(":")[0].endswith(".csv"), line
