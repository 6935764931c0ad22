"""Patient-level endpoints after CAR-T: response, relapse, NR/ER class, PFS/EFS/OS, DOR, CIR/NRM.

One call, :func:`derive_endpoints`, turns a :class:`~cartscope.cohort.model.Cohort` into one row
per patient under an explicit :class:`EndpointRules`. Every rule is a named, plain-typed field
so that a YAML protocol can fill it; every patient left out of an endpoint carries a reason.

Sources (domain-reference §4, §8): BOR until progression or new therapy [S34]; B-ALL and
Lugano orderings [S23][S24][S29]; MRD-negative = flow MRD < 0.01 % [S19][S20]; time-to-event
definitions and their HSCT / new-therapy variants [S25][S35]; the NR/ER vs durable-remission
split and its not-evaluable rules (jin2023, seed 000); li2023's two EFS readings (HSCT as
event, or censored at HSCT; seed 001); CIR with non-relapse mortality as competing event [S25].

Time convention: ``day`` in the cohort counts from infusion 1 as loaded; every time here is
re-based to the index infusion (day 0). A month is 30.4375 days (365.25 / 12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cartscope.clinical.response import (
    MRD_NEGATIVE_BELOW,
    assessment_responses,
    best_response,
    responses_in_window,
    scale_for_disease,
)
from cartscope.cohort.model import Cohort

MONTH_DAYS = 30.4375
"""Days per month (365.25 / 12), used for every month-to-day conversion."""

Handling = Literal["event", "censor", "ignore"]

_DISEASE_EVENTS = ("relapse", "progression")


@dataclass(frozen=True)
class TimeToEventRule:
    """Which events end follow-up for one time-to-event endpoint, and how.

    - ``relapse``: relapse/progression events count (from the index: the first after day 0;
      from response: the first after the response day).
    - ``death`` / ``death_causes``: deaths count as events (any cause when ``death_causes`` is
      empty). A death that does not count censors follow-up on its day.
    - ``no_response``: a non-responder has an event at day 0 (``"day0"``, ELN 2022 style [S25])
      or at the first response assessment, the one that found no response (``"assessment"``);
      ``"none"`` leaves non-response out.
    - ``hsct`` / ``new_therapy`` / ``lost_to_follow_up``: ``event`` (an event on that day),
      ``censor`` (follow-up stops, censored on that day) or ``ignore`` (follow on).
    - ``population``: ``all`` patients with the index infusion, or ``responders`` only.
    - ``origin``: ``index`` (day 0) or ``response`` (first response day; DOR/RFS).
    - ``censor_at``: without an event or stop, censor at the last contact (any record of the
      patient) or at the last assessment (any row of ``assessments``).

    Ties: an event and a censoring stop on the same day count as the event.
    """

    name: str
    relapse: bool = True
    death: bool = True
    death_causes: tuple[str, ...] = ()
    no_response: Literal["none", "day0", "assessment"] = "none"
    hsct: Handling = "ignore"
    new_therapy: Handling = "ignore"
    lost_to_follow_up: Handling = "censor"
    population: Literal["all", "responders"] = "all"
    origin: Literal["index", "response"] = "index"
    censor_at: Literal["last_contact", "last_assessment"] = "last_contact"


OS = TimeToEventRule("os", relapse=False, death=True, censor_at="last_contact")
"""Overall survival: death from any cause; censored at last contact [§4.5]."""

PFS = TimeToEventRule("pfs", relapse=True, death=True, censor_at="last_assessment")
"""Progression-free survival: relapse/progression or death; censored at last assessment."""

EFS = TimeToEventRule("efs", relapse=True, death=True, no_response="day0", hsct="censor",
                      censor_at="last_assessment")
"""Event-free survival (B-ALL): no response (day 0), relapse or death; HSCT in remission censored."""

DOR = TimeToEventRule("dor", relapse=True, death=True, population="responders", origin="response",
                      censor_at="last_assessment")
"""Duration of response: first response to relapse/progression or death (responders only)."""


@dataclass(frozen=True)
class EndpointRules:
    """Protocol rules for :func:`derive_endpoints` (plain types; a YAML protocol fills them).

    - ``index_infusion``: infusion number (int) or label (str, e.g. ``"CART2"``) that is day 0.
    - ``response_scale``: ``auto`` (B-ALL scale for B-ALL, Lugano for B-NHL) or forced.
    - ``bor_days``: only assessments up to this day count for BOR (None: no limit). BOR also
      stops at the first relapse/progression (inclusive) and before new therapy; before HSCT
      too when ``bor_stop_at_hsct``.
    - ``mrd_negative_below``: flow MRD strictly below this % upgrades B-ALL CR/CRi.
    - ``responders_b_all`` / ``responders_lugano``: BOR labels that make a responder.
    - ``early_relapse_days``: relapse on a day ``<= early_relapse_days`` after the index is
      early (inclusive). Default 6 months = 182.625 days: day 182 is early, day 183 is not.
      The same value is the window of the NR/ER vs durable split.
    - ``later_infusions``: a later CAR-T infusion is ``ignore``-d or treated as ``new_therapy``.
    - ``relapse_bin_months``: upper edges (months, inclusive) of the relapse-timing bins.
    - ``competing_hsct``: in the CIR/NRM coding, HSCT before relapse is censored, its own
      competing cause (3), or ignored.
    - ``endpoints``: the time-to-event endpoints to derive (columns ``<name>_time`` etc.).
    """

    index_infusion: int | str = 1
    response_scale: Literal["auto", "b-all", "lugano"] = "auto"
    bor_days: float | None = None
    bor_stop_at_hsct: bool = True
    mrd_negative_below: float = MRD_NEGATIVE_BELOW
    responders_b_all: tuple[str, ...] = ("MRD-negative CR", "CR", "CRi")
    responders_lugano: tuple[str, ...] = ("CR", "PR")
    early_relapse_days: float = 6 * MONTH_DAYS
    later_infusions: Literal["ignore", "new_therapy"] = "ignore"
    relapse_bin_months: tuple[float, ...] = (6.0, 12.0, 18.0, 24.0)
    competing_hsct: Literal["censor", "competing", "ignore"] = "censor"
    endpoints: tuple[TimeToEventRule, ...] = field(default=(OS, PFS, EFS, DOR))

    def __post_init__(self) -> None:
        names = [e.name for e in self.endpoints]
        if len(set(names)) != len(names):
            raise ValueError(f"endpoint names must be unique, got {names}")
        if self.early_relapse_days <= 0:
            raise ValueError("early_relapse_days must be positive")
        edges = list(self.relapse_bin_months)
        if edges != sorted(edges) or any(e <= 0 for e in edges):
            raise ValueError("relapse_bin_months must be positive and increasing")


ENDPOINT_COLUMNS: dict[str, str] = {
    "patient_id": "patient identifier",
    "disease_group": "B-ALL or B-NHL",
    "scale": "response scale used: b-all or lugano",
    "index_day": "day of the index infusion on the loaded time axis (all times below are from it)",
    "bor": "best overall response (B-ALL: MRD-negative CR > CR > CRi > PR > NR; Lugano: CR > PR > SD > NR > PD)",
    "bor_day": "day of the first assessment with the best response",
    "responder": "BOR is a responder label (NA: no assessment)",
    "non_response": "evaluable for response and not a responder",
    "response_day": "first day with a responder-level response",
    "mrd_conversion_day": "first day after the index with flow MRD < 0.01 %",
    "relapse_day": "first relapse/progression after the response day (responders)",
    "relapse_type": "event type of that first relapse: relapse or progression",
    "relapse_cd19": "CD19 status at relapse: positive / negative / unknown",
    "relapse_cd22": "CD22 status at relapse: positive / negative / unknown",
    "early_relapse": "relapse_day <= early_relapse_days (responders)",
    "relapse_bin": "relapse timing bin, months of 30.4375 days, (lower, upper]: 0-6 (includes day 0; "
                   "equals early relapse at the default window), 6-12, 12-18, 18-24, >24",
    "progression_day": "first relapse/progression after day 0, responder or not",
    "hsct_day": "first HSCT after day 0",
    "new_therapy_day": "first new therapy after day 0 (incl. later infusions if so ruled)",
    "death_day": "day of death",
    "death_cause": "cause of death",
    "lost_day": "day recorded as lost to follow-up",
    "last_contact_day": "last day with any record of the patient",
    "last_assessment_day": "last day with any assessment",
    "outcome": "no response / relapse / remission / not evaluable (jin2023 Table 1)",
    "outcome_class": "NR/ER, durable or not evaluable (jin2023 split at early_relapse_days)",
    "outcome_reason": "why the patient is in that class",
    "<name>_time": "time-to-event endpoint time (days from the endpoint origin)",
    "<name>_event": "1 event, 0 censored, NA not in the endpoint",
    "<name>_censor": "what ended follow-up without an event, or the reason for exclusion",
    "cr_time": "competing-risks time (days): first relapse, non-relapse death, HSCT or censoring",
    "cr_cause": "0 censored, 1 relapse/progression, 2 non-relapse mortality, 3 HSCT (if competing)",
    "reason": "every exclusion of this patient from any endpoint, '; '-joined ('' if none)",
}
"""The result columns of :func:`derive_endpoints` and what they mean."""


# --- index infusion ---------------------------------------------------------------------


def index_days(infusions: pd.DataFrame, index: int | str = 1) -> pd.Series:
    """Day of the index infusion per patient (on the loaded time axis).

    ``index`` is an infusion number or a label (case-insensitive, e.g. ``"CART2"``). A missing
    day on infusion 1 is taken as 0 (the loaded axis starts there). Patients without that
    infusion are absent from the result.
    """
    inf = infusions.copy()
    inf["patient_id"] = inf["patient_id"].astype(str)
    no = pd.to_numeric(inf["infusion_no"], errors="coerce")
    day = pd.to_numeric(inf["day"], errors="coerce") if "day" in inf else pd.Series(np.nan, index=inf.index)
    day = day.where(~(day.isna() & (no == 1)), 0.0)
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        hit = no == int(index)
    elif isinstance(index, str):
        if "label" not in inf:
            raise ValueError(f"index infusion {index!r} is a label but infusions has no 'label' column")
        hit = inf["label"].astype(str).str.strip().str.casefold() == index.strip().casefold()
    else:
        raise TypeError(f"index infusion must be an int or a str label, got {index!r}")
    sel = pd.DataFrame({"patient_id": inf["patient_id"], "day": day, "no": no})[hit.fillna(False)]
    if sel["day"].isna().any():
        bad = sel.loc[sel["day"].isna(), "patient_id"].tolist()
        raise ValueError(f"index infusion {index!r} has no day for patient(s) {bad[:5]}")
    sel = sel.sort_values(["patient_id", "no"], kind="mergesort").drop_duplicates("patient_id")
    return sel.set_index("patient_id")["day"].astype(float)


def _rebase(table: pd.DataFrame, index_day: pd.Series) -> pd.DataFrame:
    """Rows of patients with an index, with ``day`` re-based to it (rows without day dropped)."""
    if table.empty or "day" not in table:
        return table.iloc[0:0].assign(day=pd.Series(dtype=float), patient_id=pd.Series(dtype=object))
    t = table.copy()
    t["patient_id"] = t["patient_id"].astype(str)
    off = t["patient_id"].map(index_day)
    t["day"] = pd.to_numeric(t["day"], errors="coerce") - off
    return t[t["day"].notna()]


def _first(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> pd.DataFrame:
    """First row (by day) per patient among rows where ``mask`` holds."""
    f = frame[np.asarray(mask, dtype=bool)]
    f = f.sort_values(["patient_id", "day"], kind="mergesort")
    return f.drop_duplicates("patient_id").set_index("patient_id")


def relapse_bin_labels(edges_months: tuple[float, ...]) -> list[str]:
    """Labels of the relapse-timing bins for upper edges in months: ``0-6``, ..., ``>24``."""
    lows = (0.0, *edges_months[:-1])
    return [f"{_fmt(lo)}-{_fmt(hi)}" for lo, hi in zip(lows, edges_months)] + [f">{_fmt(edges_months[-1])}"]


def _relapse_bin(day: pd.Series, edges_months: tuple[float, ...]) -> pd.Series:
    """Label of the month bin (lower, upper]; the first bin includes day 0."""
    edges = np.asarray(edges_months, dtype=float) * MONTH_DAYS
    labels = relapse_bin_labels(edges_months)
    d = day.to_numpy(dtype=float)
    pos = np.searchsorted(edges, d, side="left")
    out = np.array([labels[i] if np.isfinite(x) else None for i, x in zip(pos, d)], dtype=object)
    return pd.Series(out, index=day.index, dtype=object)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# --- main entry -------------------------------------------------------------------------


def derive_endpoints(cohort: Cohort, rules: EndpointRules = EndpointRules()) -> pd.DataFrame:
    """Derive every endpoint per patient under ``rules``; columns as in :data:`ENDPOINT_COLUMNS`.

    One row per patient of ``cohort.patients`` (sorted by patient_id). Patients without the
    index infusion get NA everywhere and a reason. See the module docstring for sources.
    """
    patients = cohort.patients.copy()
    patients["patient_id"] = patients["patient_id"].astype(str)
    if patients["patient_id"].duplicated().any():
        dup = patients.loc[patients["patient_id"].duplicated(), "patient_id"].tolist()
        raise ValueError(f"duplicate patient_id in patients: {dup[:5]}")
    patients = patients.sort_values("patient_id", kind="mergesort").set_index("patient_id")
    ids = patients.index
    out = pd.DataFrame(index=ids)

    disease = patients["disease"].astype(object) if "disease" in patients else pd.Series("B-NHL", index=ids)
    if rules.response_scale == "auto":
        scale = scale_for_disease(disease)
    else:
        scale = pd.Series(rules.response_scale, index=ids, dtype=object)
    out["disease_group"] = np.where(scale == "b-all", "B-ALL", "B-NHL")
    out["scale"] = scale

    idx = index_days(cohort.infusions, rules.index_infusion).reindex(ids)
    has_index = idx.notna()
    out["index_day"] = idx

    events = _rebase(cohort.events, idx)
    etype = events["type"].astype(object) if "type" in events else pd.Series(dtype=object)

    # later infusions as new therapy
    nt_extra = pd.DataFrame(columns=["patient_id", "day"])
    if rules.later_infusions == "new_therapy":
        inf = _rebase(cohort.infusions, idx)
        nt_extra = inf.loc[inf["day"] > 0, ["patient_id", "day"]]

    disease_ev = events[etype.isin(_DISEASE_EVENTS).to_numpy() & (events["day"] > 0).to_numpy()]
    prog = _first(disease_ev, np.ones(len(disease_ev), dtype=bool))
    hsct = _first(events, (etype == "hsct").to_numpy() & (events["day"] > 0).to_numpy())
    nt_rows = pd.concat([events.loc[(etype == "new_therapy").to_numpy() & (events["day"] > 0).to_numpy(),
                                    ["patient_id", "day"]], nt_extra], ignore_index=True)
    newt = _first(nt_rows, np.ones(len(nt_rows), dtype=bool))
    death = _first(events, (etype == "death").to_numpy() & (events["day"] >= 0).to_numpy())
    lost = _first(events, (etype == "lost_to_follow_up").to_numpy() & (events["day"] >= 0).to_numpy())

    out["progression_day"] = prog["day"].reindex(ids).astype(float)
    out["hsct_day"] = hsct["day"].reindex(ids).astype(float)
    out["new_therapy_day"] = newt["day"].reindex(ids).astype(float)
    out["death_day"] = death["day"].reindex(ids).astype(float)
    cause = death["cause"] if "cause" in death else pd.Series(dtype=object)
    out["death_cause"] = cause.reindex(ids).astype(object)
    out["lost_day"] = lost["day"].reindex(ids).astype(float)

    # follow-up extent
    assess = _rebase(cohort.assessments, idx)
    last_assess = assess.loc[assess["day"] >= 0].groupby("patient_id")["day"].max()
    out["last_assessment_day"] = last_assess.reindex(ids).astype(float).where(has_index)
    contact_days = [events.loc[events["day"] >= 0, ["patient_id", "day"]],
                    assess.loc[assess["day"] >= 0, ["patient_id", "day"]]]
    for name in ("labs", "kinetics", "toxicity_daily"):
        t = _rebase(cohort.table(name), idx)
        if not t.empty:
            contact_days.append(t.loc[t["day"] >= 0, ["patient_id", "day"]])
    contact = pd.concat(contact_days, ignore_index=True).groupby("patient_id")["day"].max()
    out["last_contact_day"] = contact.reindex(ids).astype(float).fillna(0.0).where(has_index)

    # best overall response
    stop = out["progression_day"].copy()
    stops = [out["new_therapy_day"]]
    if rules.bor_stop_at_hsct:
        stops.append(out["hsct_day"])
    for s in stops:
        before = pd.Series(np.nextafter(s.to_numpy(dtype=float), -np.inf), index=ids)
        stop = pd.concat([stop, before], axis=1).min(axis=1)
    responses = assessment_responses(assess, scale, mrd_negative_below=rules.mrd_negative_below)
    window = responses_in_window(responses, stop, bor_days=rules.bor_days)
    bor = best_response(window).reindex(ids)
    out["bor"] = bor["bor"].astype(object)
    out["bor_day"] = bor["bor_day"].astype(float)
    responder_label = np.where(scale == "b-all", 0, 1)
    sets = (set(rules.responders_b_all), set(rules.responders_lugano))
    is_resp = [(b in sets[k]) if isinstance(b, str) else None for b, k in zip(out["bor"], responder_label)]
    out["responder"] = pd.array(is_resp, dtype="boolean")
    out["non_response"] = ~out["responder"]
    w_scale = window["patient_id"].map(scale)
    w_is_resp = np.where(w_scale == "b-all", window["response"].isin(sets[0]), window["response"].isin(sets[1]))
    out["response_day"] = window[w_is_resp].groupby("patient_id")["day"].min().reindex(ids).astype(float)
    first_assess = bor["first_assessment_day"].astype(float)

    mrd = pd.to_numeric(assess["mrd_pct"], errors="coerce") if "mrd_pct" in assess else pd.Series(dtype=float)
    conv = assess[(assess["day"] > 0).to_numpy() & (mrd < rules.mrd_negative_below).fillna(False).to_numpy()]
    out["mrd_conversion_day"] = conv.groupby("patient_id")["day"].min().reindex(ids).astype(float)

    # relapse after response
    rel = disease_ev.copy()
    rel["response_day"] = rel["patient_id"].map(out["response_day"]).astype(float)
    rel = _first(rel, (rel["day"] > rel["response_day"]).fillna(False).to_numpy())
    out["relapse_day"] = rel["day"].reindex(ids).astype(float)
    out["relapse_type"] = rel["type"].reindex(ids).astype(object)
    for ag in ("cd19", "cd22"):
        col = f"{ag}_status"
        vals = rel[col].reindex(ids).astype(object) if col in rel else pd.Series(None, index=ids, dtype=object)
        vals = vals.where(out["relapse_day"].isna() | vals.notna(), "unknown")
        out[f"relapse_{ag}"] = vals
    W = float(rules.early_relapse_days)
    er = pd.array((out["relapse_day"] <= W).to_numpy(), dtype="boolean")
    er[~out["responder"].fillna(False).to_numpy(dtype=bool)] = pd.NA
    out["early_relapse"] = er
    out["relapse_bin"] = _relapse_bin(out["relapse_day"], rules.relapse_bin_months)

    _outcome_class(out, W)

    reasons: dict[str, list[str]] = {pid: [] for pid in ids}
    label = rules.index_infusion if isinstance(rules.index_infusion, str) else f"infusion {rules.index_infusion}"
    for pid in ids[~has_index.to_numpy()]:
        reasons[pid].append(f"no index infusion ({label})")
    for pid in ids[(has_index & out["bor"].isna()).to_numpy()]:
        reasons[pid].append("no response assessment")
    for pid, cls, why in zip(ids, out["outcome_class"], out["outcome_reason"]):
        if cls == "not evaluable" and has_index[pid]:
            reasons[pid].append(f"NR/ER split: {why}")

    for rule in rules.endpoints:
        _time_to_event(out, rule, first_assess)
        for pid in ids[out[f"{rule.name}_event"].isna().to_numpy() & has_index.to_numpy()]:
            reasons[pid].append(f"{rule.name}: {out.at[pid, f'{rule.name}_censor']}")

    _competing(out, rules.competing_hsct)
    out["reason"] = pd.Series({pid: "; ".join(r) for pid, r in reasons.items()}, dtype=object).reindex(ids)
    return out.reset_index()


def _outcome_class(out: pd.DataFrame, W: float) -> None:
    """jin2023 split: NR/ER = no response or relapse within ``W`` days; durable = in remission
    beyond ``W``; not evaluable = bridged to HSCT, lost/short follow-up or non-relapse death
    within ``W`` before any relapse (seed 000, Table 1 and Results)."""
    n = len(out)
    cls = np.full(n, "not evaluable", dtype=object)
    why = np.full(n, "", dtype=object)
    table = np.full(n, "not evaluable", dtype=object)
    resp = out["responder"].to_numpy(dtype=object)
    rel = out["relapse_day"].to_numpy(dtype=float)
    prog = out["progression_day"].to_numpy(dtype=float)
    hs = out["hsct_day"].to_numpy(dtype=float)
    dd = out["death_day"].to_numpy(dtype=float)
    lo = out["lost_day"].to_numpy(dtype=float)
    fu = out["last_contact_day"].to_numpy(dtype=float)
    has_index = out["index_day"].notna().to_numpy()
    inf = np.inf
    for i in range(n):
        if not has_index[i]:
            why[i] = "no index infusion"
            continue
        r = resp[i]
        if r is False:
            cls[i], why[i], table[i] = "NR/ER", "no response", "no response"
            continue
        first_rel = rel[i] if r is True else prog[i]
        cands = [  # (day, priority, kind): on a tie relapse wins, then HSCT, death, lost
            (first_rel, 0, "relapse"), (hs[i], 1, "hsct"), (dd[i], 2, "death"), (lo[i], 3, "lost"),
        ]
        cands = [c for c in cands if np.isfinite(c[0]) and c[0] <= W]
        first = min(cands) if cands else (inf, 9, "none")
        kind = first[2]
        if kind == "relapse":
            cls[i] = "NR/ER"
            if r is True:
                why[i], table[i] = "relapse within window", "relapse"
            else:
                why[i], table[i] = "progression before any response assessment", "no response"
        elif kind == "hsct":
            why[i] = "bridged to HSCT within window"
        elif kind == "death":
            why[i] = "non-relapse death within window"
        elif kind == "lost":
            why[i] = "lost to follow-up within window"
        elif r is not True:
            why[i] = "no response assessment"
        elif fu[i] < W:
            why[i] = "follow-up shorter than window"
        else:
            cls[i] = "durable"
            why[i] = "remission beyond window"
            table[i] = "relapse" if np.isfinite(rel[i]) else "remission"
    out["outcome"] = table
    out["outcome_class"] = cls
    out["outcome_reason"] = why


def _time_to_event(out: pd.DataFrame, rule: TimeToEventRule, first_assess: pd.Series) -> None:
    """Add ``<name>_time``, ``<name>_event`` and ``<name>_censor`` for one endpoint."""
    n = len(out)
    nan = np.full(n, np.nan)
    has_index = out["index_day"].notna().to_numpy()
    responder = out["responder"].fillna(False).to_numpy(dtype=bool)
    non_resp = out["non_response"].fillna(False).to_numpy(dtype=bool)
    if rule.origin == "response":
        origin = out["response_day"].to_numpy(dtype=float)
    else:
        origin = np.zeros(n)
    in_pop = has_index & np.isfinite(origin)
    if rule.population == "responders":
        in_pop &= responder

    events: list[tuple[np.ndarray, str]] = []
    stops: list[tuple[np.ndarray, str]] = []
    if rule.relapse:
        col = "relapse_day" if rule.origin == "response" else "progression_day"
        events.append((out[col].to_numpy(dtype=float), "relapse/progression"))
    dd = out["death_day"].to_numpy(dtype=float)
    if rule.death:
        counts = np.ones(n, dtype=bool)
        if rule.death_causes:
            counts = out["death_cause"].isin(rule.death_causes).to_numpy()
        events.append((np.where(counts, dd, np.nan), "death"))
        stops.append((np.where(counts, np.nan, dd), "death not counted"))
    else:
        stops.append((dd, "death not counted"))
    if rule.no_response != "none":
        day = 0.0 if rule.no_response == "day0" else first_assess.to_numpy(dtype=float)
        events.append((np.where(non_resp, day, np.nan), "no response"))
    for col, how, what in (("hsct_day", rule.hsct, "hsct"),
                           ("new_therapy_day", rule.new_therapy, "new therapy"),
                           ("lost_day", rule.lost_to_follow_up, "lost to follow-up")):
        d = out[col].to_numpy(dtype=float)
        if how == "event":
            events.append((d, what))
        elif how == "censor":
            stops.append((d, what))

    def earliest(cands: list[tuple[np.ndarray, str]]) -> tuple[np.ndarray, np.ndarray]:
        day = nan.copy()
        kind = np.full(n, None, dtype=object)
        for d, k in cands:
            d = np.where(d >= origin, d, np.nan) if rule.origin == "response" else d
            better = np.isfinite(d) & ~(d >= day)
            day = np.where(better, d, day)
            kind = np.where(better, k, kind)
        return day, kind

    ev_day, _ = earliest(events)
    st_day, st_kind = earliest(stops)
    base_col = "last_contact_day" if rule.censor_at == "last_contact" else "last_assessment_day"
    base = out[base_col].to_numpy(dtype=float)
    base = np.where(np.isfinite(base), base, 0.0)
    is_event = np.isfinite(ev_day) & ~(ev_day > st_day)
    is_stop = ~is_event & np.isfinite(st_day)
    end = np.where(is_event, ev_day, np.where(is_stop, st_day, base))
    time = np.maximum(end - np.where(np.isfinite(origin), origin, 0.0), 0.0)
    censor = np.where(is_event, "", np.where(is_stop, st_kind, rule.censor_at.replace("_", " ")))
    censor = censor.astype(object)
    censor[~has_index] = "no index infusion"
    if rule.population == "responders":
        censor[has_index & ~responder] = "not a responder"
    elif rule.origin == "response":
        censor[has_index & ~np.isfinite(origin)] = "no response"
    out[f"{rule.name}_time"] = np.where(in_pop, time, np.nan)
    out[f"{rule.name}_event"] = pd.array(np.where(in_pop, is_event.astype(int), -1), dtype="Int64")
    out.loc[~in_pop, f"{rule.name}_event"] = pd.NA
    out[f"{rule.name}_censor"] = censor


def _competing(out: pd.DataFrame, hsct: Literal["censor", "competing", "ignore"]) -> None:
    """Cause codes for CIR / NRM (domain-reference §7.7): 1 relapse/progression, 2 death without
    prior relapse, 3 HSCT (when competing), 0 censored at last contact or at HSCT."""
    n = len(out)
    rel = out["progression_day"].to_numpy(dtype=float)
    dd = out["death_day"].to_numpy(dtype=float)
    hs = out["hsct_day"].to_numpy(dtype=float) if hsct != "ignore" else np.full(n, np.nan)
    base = out["last_contact_day"].to_numpy(dtype=float)
    time = np.where(np.isfinite(base), base, np.nan)
    cause = np.zeros(n, dtype=int)
    best = np.full(n, np.inf)
    # order of precedence on a tie: relapse, death, HSCT
    for d, code in ((rel, 1), (dd, 2), (hs, 3 if hsct == "competing" else 0)):
        better = np.isfinite(d) & (d < best)
        best = np.where(better, d, best)
        cause = np.where(better, code, cause)
    time = np.where(np.isfinite(best), best, time)
    has_index = out["index_day"].notna().to_numpy()
    out["cr_time"] = np.where(has_index, np.maximum(time, 0.0), np.nan)
    out["cr_cause"] = pd.array(np.where(has_index, cause, 0), dtype="Int64")
    out.loc[~has_index, "cr_cause"] = pd.NA
