"""The upload form's date-order choice reaches the loader: a day-first cohort whose values do
not decide their order is refused without it and stored with it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from conftest import token_from, zip_folder

GOOD_DATES = Path(__file__).resolve().parents[1] / "cohort" / "good" / "dates"


def _undecided_day_first(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in sorted(GOOD_DATES.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem == "events":  # only days up to 12: no value says which order
            frame["date"] = ["2023-07-09", "2023-09-07", "2024-02-01", "2023-03-10", "2023-07-08", "2023-06-11"]
        if "date" in frame:
            frame["date"] = [dt.date.fromisoformat(v).strftime("%d/%m/%Y") if v else "" for v in frame["date"]]
        frame.to_csv(folder / path.name, index=False)
    return folder


def test_upload_with_date_order(web, login, tmp_path: Path) -> None:
    app, _ = web
    ana = login("ana")
    csrf = token_from(ana.get("/studies").text)
    page = ana.get("/studies/s1").text
    assert 'name="date_order"' in page
    data = zip_folder(_undecided_day_first(tmp_path / "c"), tmp_path / "c.zip").read_bytes()
    refused = ana.post("/studies/s1/upload", data={"csrf_token": csrf}, files={"cohort": ("c.zip", data)})
    assert refused.status_code == 422 and "ambiguous-date" in refused.text
    stored = ana.post("/studies/s1/upload", data={"csrf_token": csrf, "date_order": "DMY"},
                      files={"cohort": ("c.zip", data)}, follow_redirects=True)
    assert stored.status_code == 200 and "stored as snapshot 1" in stored.text
