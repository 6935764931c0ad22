"""Seeded synthetic cohorts calibrated to the reference studies (``presets.md``).

Patient-level data of the reference studies are not public; each generator builds a cohort
whose published figures (counts exactly, medians and ranges pinned where the paper gives them)
are reproduced, using only ``numpy.random.default_rng(seed)``: the same seed gives identical
tables. Days count from infusion 1 (day 0); analyte names and units are canonical (cytokines pg/mL, ferritin
ng/mL, CAR transgene copies/ug DNA, doses 1e6 cells/kg).
"""

from __future__ import annotations

import dataclasses
import importlib

from cartscope.cohort.model import Cohort
from cartscope.cohort.units import canonical_analyte

PRESETS: dict[str, str] = {
    "jin2023": "CAR19/22 cocktail in B-ALL and B-NHL; MIP3a as early predictor of NR/ER (119 patients)",
    "li2023": "CD19 + CD22 CAR-T co-administration as second CAR-T in children with B-ALL (5 patients)",
    "lu2021": "CD19 CAR-T in MRD-positive B-ALL: 14 published patients plus 33 synthetic comparators",
}
"""Preset name -> one-line description; the generator is ``<name>.synthesize(seed)``."""


def synthesize(preset: str, seed: int = 2023) -> Cohort:
    """The synthetic cohort of ``preset`` for ``seed`` (default 2023)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    module = importlib.import_module(f"{__name__}.{preset}")
    return _canonical_names(module.synthesize(seed))


def _canonical_names(cohort: Cohort) -> Cohort:
    """Known analytes under their canonical names (``IL-6`` -> ``il6``), exactly as loading does."""
    labs = cohort.labs.assign(analyte=cohort.labs["analyte"].map(lambda a: canonical_analyte(a) or a))
    return dataclasses.replace(cohort, labs=labs)


__all__ = ["PRESETS", "synthesize"]
