"""The analyte dictionary of one cohort: built-in analytes plus the cohort's own.

Built in (:data:`cartscope.cohort.units.ANALYTES`): cytokines, chemistry and blood counts, and
the predictors the reference review and commentary single out -- ctDNA (hGE/mL), TMTV (mL),
MDSC (%), gene-set scores (unitless, negative allowed), CAR-T memory / exhausted phenotypes and
CAR-Treg. A cohort adds or overrides entries in ``cohort.yaml`` (``analytes:``) or in an
``analytes`` sheet / ``analytes.csv`` with the columns of
:data:`cartscope.cohort.schema.ANALYTES_TABLE`. Each entry gives the canonical unit, aliases,
the allowed range, the assay limits LOD / LLOQ / ULOQ (canonical unit) and conversions for
units outside the shared vocabulary (``{"AU/mL": 0.5}``: value in AU/mL x 0.5 = canonical).

Assay-limit cells: ``<5`` and ``>5000`` are values censored at the number given (qualifier
``<`` / ``>``); ``<LOD``, ``<LLOQ``, ``BLQ``, ``ND`` ("not detected") and ``>ULOQ`` are censored
at the analyte's limit, which the dictionary must then give.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from cartscope.cohort.units import (
    ANALYTES,
    DIMENSIONS,
    Analyte,
    UnitError,
    conversion_factor,
    normalise_unit,
)

LOW_TOKENS = {"<lod": "lod", "<lld": "lod", "nd": "lod", "not detected": "lod", "undetectable": "lod",
              "below detection": "lod", "<lloq": "lloq", "<loq": "lloq", "blq": "lloq", "bloq": "lloq",
              "bql": "lloq", "<llq": "lloq", "below quantification": "lloq"}
HIGH_TOKENS = {">uloq": "uloq", ">ulq": "uloq", "aloq": "uloq", "aql": "uloq", "above quantification": "uloq"}
"""Cell texts (lower case, spaces collapsed) naming an assay limit instead of a number."""


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).strip().lower())


def limit_token(text: str) -> tuple[str, str] | None:
    """``("<", "lloq")`` for ``"BLQ"``, ``(">", "uloq")`` for ``">ULOQ"``; ``None`` otherwise."""
    key = re.sub(r"\s+", " ", text.strip().lower())
    compact = key.replace(" ", "")
    for table, sign in ((LOW_TOKENS, "<"), (HIGH_TOKENS, ">")):
        if key in table:
            return sign, table[key]
        if compact in table:
            return sign, table[compact]
    return None


class DictionaryError(ValueError):
    """An analyte entry that cannot be used; ``where`` names it for the problem list."""

    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(message)


@dataclass(frozen=True)
class AnalyteDictionary:
    """Analytes by canonical name with a lookup of every spelling."""

    analytes: Mapping[str, Analyte] = field(default_factory=lambda: dict(ANALYTES))
    origin: Mapping[str, str] = field(default_factory=dict)
    """Canonical name -> where a cohort-defined entry came from (for messages)."""

    @property
    def _lookup(self) -> dict[str, str]:
        cached = self.__dict__.get("_lookup_cache")
        if cached is None:
            cached = {}
            for a in self.analytes.values():
                for spelling in (a.name, *a.aliases):
                    cached[_key(spelling)] = a.name
            object.__setattr__(self, "_lookup_cache", cached)
        return cached

    def canonical(self, name: object) -> str | None:
        """The canonical name of a known analyte (``"CAR-Treg"`` -> ``"car_treg_pct"``), else ``None``."""
        if name is None:
            return None
        return self._lookup.get(_key(str(name)))

    def get(self, name: str) -> Analyte | None:
        return self.analytes.get(name)

    def targets(self) -> dict[str, str]:
        return {name: a.unit for name, a in self.analytes.items()}

    def unit(self, analyte: str | None, text: object) -> str | None:
        """The spelling of ``text`` as a unit for ``analyte``: the analyte's own units first
        (its canonical unit and conversion units, compared case-insensitively), then the shared
        vocabulary."""
        if text is None:
            return None
        info = self.analytes.get(analyte) if analyte else None
        if info is not None:
            key = str(text).strip().lower()
            for unit in (info.unit, *(u for u, _ in info.conversions)):
                if key == unit.lower():
                    return unit
        return normalise_unit(text)

    def factor(self, unit: str, target: str, analyte: str | None) -> float:
        """Multiply a value in ``unit`` by this to express it in ``target`` (see :func:`conversion_factor`)."""
        if unit == target:
            return 1.0
        info = self.analytes.get(analyte) if analyte else None
        if info is not None and target == info.unit:
            for u, f in info.conversions:
                if u == unit:
                    return f
        if unit not in DIMENSIONS or target not in DIMENSIONS:
            what = f" for {analyte}" if analyte else ""
            raise UnitError(f"{unit} cannot be converted to {target}{what}")
        if info is not None and info.molar_per_mass and analyte not in ANALYTES:
            raise UnitError(f"{unit} cannot be converted to {target} for {analyte}")
        return conversion_factor(unit, target, analyte=analyte if analyte in ANALYTES else None)

    def minimum(self, analyte: str | None, unit: str | None) -> float | None:
        """Smallest possible value: the entry's, else 0 (measurements), ``None`` for scores."""
        info = self.analytes.get(analyte) if analyte else None
        if info is not None:
            return info.minimum
        return None if unit == "score" else 0.0

    def maximum(self, analyte: str | None, unit: str | None) -> float | None:
        info = self.analytes.get(analyte) if analyte else None
        if info is not None and info.maximum is not None:
            return info.maximum
        return 100.0 if unit == "%" else None

    def extend(self, entries: Iterable[tuple[str, Mapping[str, object]]]) -> AnalyteDictionary:
        """A dictionary with ``entries`` ``(where, mapping)`` added; an entry naming a known
        analyte (by name or alias) overrides the fields it gives. Raises :class:`DictionaryError`."""
        analytes = dict(self.analytes)
        origin = dict(self.origin)
        for where, entry in entries:
            analyte = _entry(where, entry, analytes, self)
            for other in analytes.values():
                if other.name == analyte.name:
                    continue
                clash = {_key(s) for s in (analyte.name, *analyte.aliases)} & {_key(s) for s in (other.name, *other.aliases)}
                if clash:
                    raise DictionaryError(where, f"analyte {analyte.name!r}: spelling {sorted(clash)[0]!r} already "
                                                 f"names {other.name!r}")
            analytes[analyte.name] = analyte
            origin[analyte.name] = where
        return AnalyteDictionary(analytes, origin)


FIELDS = ("name", "analyte", "unit", "aliases", "minimum", "maximum", "range", "lod", "lloq", "uloq",
          "conversions", "description", "plausible_max")


def _number(where: str, name: str, value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise DictionaryError(where, f"{name} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise DictionaryError(where, f"{name} {value!r} is not a finite number")
    return number


def _split(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, float) and math.isnan(value):
        return []
    return [p.strip() for p in re.split(r"[|;]", str(value)) if p.strip()]


def _conversions(where: str, value: object) -> tuple[tuple[str, float], ...]:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return ()
    pairs: list[tuple[str, object]] = []
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        for part in _split(value):
            if "=" not in part:
                raise DictionaryError(where, f"conversion {part!r} is not 'unit=factor'")
            unit, factor = part.rsplit("=", 1)
            pairs.append((unit.strip(), factor))
    out = []
    for unit, factor in pairs:
        f = _number(where, f"factor of {unit}", factor)
        if f is None or f <= 0:
            raise DictionaryError(where, f"conversion factor of {unit!r} must be a positive number")
        out.append((normalise_unit(unit) or unit.strip(), f))
    return tuple(out)


def _entry(where: str, entry: Mapping[str, object], known: Mapping[str, Analyte],
           base: AnalyteDictionary) -> Analyte:
    import difflib

    unknown = [k for k in entry if k not in FIELDS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], FIELDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DictionaryError(where, f"unknown analyte field {unknown[0]!r} (fields: {', '.join(FIELDS)}){hint}")
    raw_name = entry.get("name", entry.get("analyte"))
    if raw_name is None or not str(raw_name).strip():
        raise DictionaryError(where, "an analyte entry needs a name")
    existing = base.canonical(raw_name)
    previous = known.get(existing) if existing else None
    name = previous.name if previous else re.sub(r"\s+", "_", str(raw_name).strip().lower())
    unit_text = entry.get("unit")
    if unit_text is None or not str(unit_text).strip():
        if previous is None:
            raise DictionaryError(where, f"analyte {name!r} needs a unit")
        unit = previous.unit
    else:
        unit = normalise_unit(unit_text) or str(unit_text).strip()
    changes: dict[str, object] = {"unit": unit}
    if "aliases" in entry:
        changes["aliases"] = tuple(dict.fromkeys([*(previous.aliases if previous else ()), *_split(entry["aliases"])]))
    if "range" in entry:
        rng = entry["range"]
        if not isinstance(rng, list | tuple) or len(rng) != 2:
            raise DictionaryError(where, f"range of {name!r} must be [minimum, maximum] (null for none)")
        changes["minimum"], changes["maximum"] = (_number(where, "minimum", rng[0]), _number(where, "maximum", rng[1]))
    for key in ("minimum", "maximum", "lod", "lloq", "uloq", "plausible_max"):
        if key in entry:
            changes[key] = _number(where, key, entry[key])
    if "conversions" in entry:
        changes["conversions"] = _conversions(where, entry["conversions"])
    if "description" in entry and entry["description"] is not None:
        changes["description"] = str(entry["description"])
    if previous is None:
        if unit == "score" and "minimum" not in changes:
            changes["minimum"] = None
        analyte = Analyte(name, **changes)  # type: ignore[arg-type]
    else:
        analyte = replace(previous, **changes)  # type: ignore[arg-type]
        if analyte.unit != previous.unit:  # a new canonical unit: built-in limits were in the old one
            analyte = replace(analyte, plausible_max=changes.get("plausible_max"))  # type: ignore[arg-type]
    low, high = analyte.minimum, analyte.maximum
    if low is not None and high is not None and low > high:
        raise DictionaryError(where, f"range of {name!r}: minimum {low:g} is above maximum {high:g}")
    for limit in ("lod", "lloq", "uloq"):
        value = getattr(analyte, limit)
        if value is not None and low is not None and value < low:
            raise DictionaryError(where, f"{limit} of {name!r} ({value:g}) is below its minimum ({low:g})")
    return analyte


BUILTIN = AnalyteDictionary()
"""The dictionary without cohort entries."""
