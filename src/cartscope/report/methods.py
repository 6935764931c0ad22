"""The generated methods paragraphs of the report.

Written from the protocol and the results alone, so that they describe exactly what ran: the
index infusion, every endpoint rule in words, the response and toxicity criteria, the tests
and interval methods of each section that ran (Kaplan-Meier with the protocol's interval type,
log-rank, Aalen-Johansen with Gray's test, Mann-Whitney with the multiplicity adjustment,
DeLong AUC intervals, the proportion interval of sensitivities and specificities, Cox with its
ties method), and the software versions, data hash and protocol name that reproduce them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cartscope.clinical.endpoints import MONTH_DAYS
from cartscope.report.labels import LabelRegistry, analyte_label, default_registry, registry_for
from cartscope.report.numbers import DEFAULT_FORMAT, NumberFormat
from cartscope.report.tables.formatting import fmt_num
from cartscope.report.toxicity_methods import grading_sentence, toxicity_methods
from cartscope.report.wording import join_words
from cartscope.stats.cutoff_side import cutoff_rule

if TYPE_CHECKING:  # pragma: no cover
    from cartscope.analysis.results import Results

CI_NAMES = {
    "wilson": "Wilson score",
    "wilson-modified": "modified Wilson score (Newcombe)",
    "clopper-pearson": "Clopper-Pearson exact",
    "agresti-coull": "Agresti-Coull",
    "jeffreys": "Jeffreys",
    "wald": "Wald",
}
ADJUST_NAMES = {"bh": "Benjamini-Hochberg false discovery rate", "by": "Benjamini-Yekutieli",
                "holm": "Holm", "bonferroni": "Bonferroni", "hochberg": "Hochberg"}
KM_CI = {"log-log": "log-log transformed (R survival conf.type = \"log-log\")",
         "log": "log transformed (R survival default)", "plain": "untransformed (plain)"}
HANDLING = {"event": "counts as an event", "censor": "censors follow-up", "ignore": "is ignored"}


def _months(days: float) -> str:
    return fmt_num(days / MONTH_DAYS, 1, strip_zeros=True)


def endpoint_rule_text(rule: Any, labels: LabelRegistry | None = None) -> str:
    """One endpoint rule in words, e.g. "pfs: from day 0 to relapse or progression, death
    (any cause) or non-response (at the assessment that found it); HSCT is ignored; ..."."""
    endpoint_name = (labels or default_registry()).text
    events = []
    if rule.relapse:
        events.append("relapse or progression")
    if rule.death:
        events.append("death" + (f" from {', '.join(rule.death_causes)}" if rule.death_causes else " from any cause"))
    if rule.no_response == "day0":
        events.append("non-response (an event at day 0)")
    elif rule.no_response == "assessment":
        events.append("non-response (at the assessment that found it)")
    for name, how in (("HSCT", rule.hsct), ("new therapy", rule.new_therapy),
                      ("loss to follow-up", rule.lost_to_follow_up)):
        if how == "event":
            events.append(name)
    origin = "the first response" if rule.origin == "response" else "the index infusion"
    stops = [f"{name} {HANDLING[how]}" for name, how in
             (("HSCT", rule.hsct), ("new therapy", rule.new_therapy), ("loss to follow-up", rule.lost_to_follow_up))
             if how != "event"]
    who = "responders only" if rule.population == "responders" else "all patients"
    censor = "last contact" if rule.censor_at == "last_contact" else "last response assessment"
    return (f"{endpoint_name(rule.name)} ({rule.name}, {who}) ran from {origin} to the first of "
            f"{join_words(events) or 'no event'}; {join_words(stops)}; patients without an event were censored "
            f"at their {censor}.")


def methods_paragraphs(results: Results, *, number_format: NumberFormat = DEFAULT_FORMAT,
                       labels: LabelRegistry | None = None) -> list[str]:
    """The methods text, one paragraph per string (see the module docstring)."""
    labels = labels or registry_for(results.protocol, plan=getattr(results, "plan", None))
    endpoint_name_of = labels.text
    proto = results.protocol
    rules = proto.endpoint_rules()
    ran = set(results.sections)
    paras: list[str] = []

    index = (f"infusion number {rules.index_infusion}" if isinstance(rules.index_infusion, int)
             else f"the infusion labelled {rules.index_infusion}")
    early = rules.early_relapse_days
    paras.append(
        f"Study design. The analysis follows protocol {proto.name}"
        + (f" ({proto.source})" if proto.source else "")
        + f". Day 0 is {index}; all times are days from it (months of {MONTH_DAYS} days). "
        f"Best overall response was graded on the B-ALL scale (bone-marrow morphology and flow MRD, "
        f"MRD-negative below {fmt_num(rules.mrd_negative_below, 4, strip_zeros=True)}%) for B-ALL and by the Lugano 2014 "
        f"criteria for B-NHL"
        + (f", counting assessments up to day {fmt_num(rules.bor_days, 0)}" if rules.bor_days else "")
        + f". Early relapse is relapse on or before day {fmt_num(early, 3, strip_zeros=True)} "
        f"({_months(early)} months); patients with no response or early relapse (NR/ER) were compared "
        f"with patients in durable remission beyond that window. Later CAR-T infusions were "
        f"{'ignored' if rules.later_infusions == 'ignore' else 'treated as new therapy'}."
    )
    paras.append("Endpoints. " + " ".join(endpoint_rule_text(r, labels) for r in rules.endpoints
                                          if r.name in proto.survival.endpoints or not proto.survival.endpoints))

    stats: list[str] = []
    if "cohort" in ran:
        stats.append("Baseline characteristics are medians (range) or counts (%), compared by "
                     f"{labels.text(proto.subgroups).lower()} with the Mann-Whitney or Kruskal-Wallis "
                     "test and Fisher's exact or the chi-square test, as named under Table 1.")
    if "response" in ran:
        orr = _method(results, "response_orr")
        cls = _method(results, "outcome_classes")
        parts = []
        if orr:
            parts.append(f"overall response rates with {CI_NAMES.get(orr, orr)} 95% confidence intervals")
        if cls:
            parts.append(f"the NR/ER share with the {CI_NAMES.get(cls, cls)} interval")
        if parts:
            text = join_words(parts)
            stats.append(text[0].upper() + text[1:] + " are given.")
    survival = _survival_methods(results, labels)
    if survival is not None:
        stats.extend(survival)
    else:  # results without a plan: the section-form protocol's one survival and one cif entry
        if "survival" in ran:
            sv = proto.survival
            stats.append(
                f"Survival was estimated by the Kaplan-Meier method with {KM_CI[sv.conf_type]} "
                f"{fmt_num(100 * sv.level, 0)}% pointwise intervals and compared with the log-rank test"
                + (f" across {join_words([labels.text(b).lower() for b in sv.by])}" if sv.by else "")
                + f"; landmark estimates at {join_words([fmt_num(m, 0) for m in sv.landmark_months])} months. "
                "Median follow-up was estimated by the reverse Kaplan-Meier method.")
        if "competing_risks" in ran:
            stats.append("Cumulative incidences of relapse with non-relapse mortality as the competing event "
                         "(and of treatment failure with death without failure as the competing event) were "
                         "estimated by the Aalen-Johansen method with the variance of R cmprsk::cuminc and "
                         "compared across groups with Gray's test.")
    if "toxicity" in ran:
        stats.append(grading_sentence(results))  # daily-graded / recorded, with counts
    if "ae_table" in ran:
        stats.append("Laboratory adverse events were graded by CTCAE version 5.0; the worst grade per patient is "
                     "reported as a share of the patients assessed for that event.")
    plan_ran = _ran(results)
    car_ran = ("kinetics" in ran if plan_ran is None else any(a.kind == "car_kinetics" for a in plan_ran))
    if car_ran:  # the kinetics section also holds cytokine courses: say CAR-T only when it was measured
        stats.append("CAR-T kinetics were summarised by non-compartmental parameters (Cmax, Tmax, AUC over "
                     "days 0-28 by linear trapezoids, persistence).")
    stats.extend(_compare_methods(results, labels))
    bm = proto.biomarkers
    if "biomarkers" in ran and bm is not None:
        ref = {"healthy_donor_mean": "as fold change over the mean of the healthy donors",
               "healthy_donor_median": "as fold change over the median of the healthy donors",
               "none": "on their measured scale"}[bm.reference]
        tables = getattr(results, "tables", None) or {}
        ran_table = {k for k, v in tables.items() if v is not None and len(v)}
        who = _screen_groups(results, labels) or (f"In the {bm.training} cohort, NR/ER and durable-remission "
                                                   "patients")
        text_ = (
            f"Biomarkers measured at {_lower(labels.text(bm.timepoint))} were analysed {ref}. {who} were compared "
            f"marker by marker with the two-sided Mann-Whitney U test (exact for small samples without ties, as "
            f"R wilcox.test), p-values adjusted by the {ADJUST_NAMES[bm.fdr_method]} method (significance p < "
            f"{fmt_num(bm.significance, 2, strip_zeros=True)}, q < {fmt_num(bm.fdr_level, 2, strip_zeros=True)}). "
            "The area under the empirical ROC curve has DeLong 95% confidence intervals (as R pROC); the cut-off "
            "maximises Youden's index, and sensitivity and specificity at it have "
            f"{CI_NAMES[bm.ci_method]} 95% intervals.")
        if "biomarker_cutoff_survival" in ran_table:  # only what ran: no survival endpoint, no sentence
            text_ += (f" {endpoint_name_of(bm.survival_endpoint)} on either side of the cut-off was compared with "
                      "the log-rank test.")
        if "biomarker_maxstat" in ran_table:
            text_ += (" The best survival cut-point was searched by maximally selected rank statistics with the "
                      "Lausen-Schumacher adjusted p-value (R maxstat).")
        if "biomarker_optimism" in ran_table:
            text_ += f" The AUC was corrected for optimism by {bm.n_boot} bootstrap resamples (seed {bm.seed})."
        stats.append(text_)
    if "validation" in ran and bm is not None and bm.validation:
        frozen = _frozen_rules(results, number_format, labels)
        stats.append("The training cut-off and its test-positive side"
                     + (f" ({'; '.join(frozen)})" if frozen else "")
                     + f" were frozen and applied unchanged to the {bm.validation} cohort.")
    if "cox" in ran and proto.cox:
        models = [f"{endpoint_name_of(c.endpoint).lower()} on {join_words([labels.text(v) for v in c.covariates])} "
                  f"({c.ties} ties)" for c in proto.cox]
        stats.append("Multivariable Cox proportional-hazards models were fitted for " + join_words(models)
                     + "; hazard ratios have Wald 95% intervals.")
    if "correlations" in ran:
        stats.append("Correlations are Pearson coefficients with Fisher-z 95% intervals.")
    stats += toxicity_methods(results)
    if "exclusions" in ran:
        stats.append("Every patient left out of an analysis is listed with the reason.")
    stats.extend(_model_methods(results))
    stats.extend(_logistic_methods(results))
    if stats:
        paras.append("Statistical analysis. " + " ".join(stats) + " All tests are two-sided.")

    versions = results.versions
    soft = join_words([f"{k} {v}" for k, v in sorted(versions.items()) if k != "cartscope"])
    paras.append(
        f"Software and reproducibility. Analyses were run with cartscope {versions.get('cartscope', 'unknown')}"
        + (f" ({soft})" if soft else "")
        + "; its estimators are tested against R (survival, cmprsk, pROC, maxstat). "
        f"Protocol: {proto.name}. Data hash (SHA-256 of the normalised cohort): {results.data_hash}. "
        "The same data and protocol reproduce this report byte for byte."
    )
    return paras


CIF_CODINGS = {"relapse_nrm": "relapse with non-relapse mortality as the competing event",
               "failure": "treatment failure (no response or relapse) with death without failure as the "
                          "competing event"}


def _ran(results: Results) -> list[Any] | None:
    """The plan's analyses that ran, plan order (None without a plan or status)."""
    plan = getattr(results, "plan", None)
    status = getattr(results, "status", None)
    if plan is None or status is None or "status" not in status:
        return None
    ok = set(status.loc[status["status"] == "ran", "analysis"].astype(str))
    return [a for a in plan.analyses if a.id in ok]


def _who(results: Results, a: Any, labels: LabelRegistry) -> str:
    """"all patients", "population B-ALL", and the splits: "by CRS grade within disease group"."""
    plan = results.plan
    if a.population:
        spec = (getattr(plan, "populations", {}) or {}).get(a.population)
        who = f"population {getattr(spec, 'title', '') or a.population}"
    else:
        who = "all patients"
    return who


def _by_text(a: Any, labels: LabelRegistry) -> str:
    by = join_words([_lower(labels.text(b)) for b in a.by])
    return by + (f" within each {_lower(labels.text(a.within))}" if a.within and by else "")


def _lower(text: str) -> str:
    """Lower-case a label inside a sentence unless it starts with an acronym ("CRS grade")."""
    head = text.split(" ", 1)[0]
    return text if head.isupper() or any(ch.isdigit() for ch in head) else text[:1].lower() + text[1:]


_COMPARE_TESTS = (("mann-whitney", "the Mann-Whitney U test"), ("kruskal-wallis", "the Kruskal-Wallis test"),
                  ("fisher", "Fisher's exact test"), ("chi-square", "the chi-square test"),
                  ("wilcoxon signed-rank", "the Wilcoxon signed-rank test"), ("paired t", "the paired t test"),
                  ("mcnemar", "McNemar's test"))


def _compare_methods(results: Results, labels: LabelRegistry) -> list[str]:
    """One sentence per ``compare`` analysis that ran: what was compared, in whom, and the tests
    its results name (only those that were computed)."""
    ran = _ran(results)
    if not ran:
        return []
    tables = getattr(results, "tables", None) or {}
    table = tables.get("comparisons")
    out: list[str] = []
    for a in ran:
        if a.kind != "compare":
            continue
        rows = table[table["analysis"] == a.id] if table is not None and "analysis" in table else None
        methods = [] if rows is None else [str(m) for m in rows["level"].dropna().unique()]
        tests = [name for key, name in _COMPARE_TESTS if any(m.startswith(key) for m in methods)]
        variables = [_lower(labels.text(v)) for v in a.variables]
        who = _who(results, a, labels)
        if a.options.get("paired"):
            text = f"Within patients ({who}), {join_words(variables[:1])} was compared with {join_words(variables[1:])}"
        else:
            text = f"{join_words(variables)} ({who}) {'was' if len(variables) == 1 else 'were'} compared"
            text = text[:1].upper() + text[1:]
            by = _by_text(a, labels)
            if by:
                text += f" across {by}"
        out.append(text + (f" with {join_words(tests)}." if tests else "."))
    return out


def _survival_methods(results: Results, labels: LabelRegistry) -> list[str] | None:
    """One sentence per ``km``, ``followup`` and ``cif`` analysis that ran: its endpoints,
    population, splits, tests and intervals (None without a plan: the caller falls back)."""
    ran = _ran(results)
    if ran is None:
        return None
    from cartscope.analysis.plan.registry import kinds

    reg = kinds()
    out: list[str] = []
    named: set[str] = set()  # interval types already spelt out
    for a in ran:
        if a.kind not in ("km", "cif", "followup"):
            continue
        o = reg[a.kind].options.model_validate(a.options)
        who, by = _who(results, a, labels), _by_text(a, labels)
        if a.kind == "km":
            eps = join_words([_lower(labels.text(e)) for e in o.endpoints])
            ci = o.conf_type if o.conf_type in named else KM_CI[o.conf_type]
            named.add(o.conf_type)
            marks = join_words([fmt_num(m, 1, strip_zeros=True) for m in o.landmark_months])
            text = (f"{eps[:1].upper() + eps[1:]} ({who}) {'was' if len(o.endpoints) == 1 else 'were'} estimated "
                    f"by the Kaplan-Meier method ({ci} {fmt_num(100 * o.level, 0)}% pointwise intervals; landmark "
                    f"estimates at {marks} months)")
            if by:
                text += f", and compared across {by} with the log-rank test"
                if getattr(o, "annotate_hr", False):
                    text += (" and Cox hazard ratios (Efron ties, Wald intervals) of each level against the "
                             "first")
            out.append(text + ".")
        elif a.kind == "followup":
            out.append(f"Median follow-up of {_lower(labels.text(o.endpoint))} ({who}"
                       + (f", by {by}" if by else "") + ") was estimated by the reverse Kaplan-Meier method.")
        else:
            what = join_words([CIF_CODINGS[c] for c in o.codings])
            text = (f"Cumulative incidences of {what} ({who}) were estimated by the Aalen-Johansen method with "
                    "the variance of R cmprsk::cuminc")
            text += f" and compared across {by} with Gray's test." if by else "."
            out.append(text)
    return out


def _screen_groups(results: Results, labels: LabelRegistry) -> str:
    """"Patients with and without CRS grade >= 3 (population B-ALL)" when the screen's outcome is
    a plan variable other than NR/ER ("" for NR/ER vs durable remission)."""
    screen = (getattr(results, "tables", None) or {}).get("biomarker_screen")
    if screen is None or not len(screen) or "outcome" not in screen:
        return ""
    outcome = str(screen["outcome"].iloc[0])
    if outcome == "nr_er":
        return ""
    plan = getattr(results, "plan", None)
    var = (getattr(plan, "variables", {}) or {}).get(outcome) if plan is not None else None
    label = getattr(var, "title", "") or labels.text(outcome)
    aid = str(screen["analysis"].iloc[0]) if "analysis" in screen else ""
    pop = ""
    for a in getattr(plan, "analyses", ()) or ():
        if a.id == aid and getattr(a, "population", None):
            spec = (getattr(plan, "populations", {}) or {}).get(a.population)
            pop = f" (population {getattr(spec, 'title', '') or a.population})"
    return f"Patients with {label} (= 1) and without it (= 0){pop}"


def _model_methods(results: Results) -> list[str]:
    """Sentences of the model kinds that ran (:func:`cartscope.report.models.model_methods`)."""
    from cartscope.report.models import model_methods

    plan = getattr(results, "plan", None)
    status = getattr(results, "status", None)
    if plan is None or status is None or "status" not in status:
        return []
    ran = status.loc[status["status"] == "ran", "analysis"].astype(str).tolist()
    return model_methods(plan.analyses, ran=ran)


def _logistic_methods(results: Results) -> list[str]:
    """The ``logistic`` analyses that ran (:func:`cartscope.report.tables.logistic.logistic_methods`)."""
    from cartscope.report.tables.logistic import logistic_methods

    plan = getattr(results, "plan", None)
    status = getattr(results, "status", None)
    if plan is None or status is None or "status" not in status:
        return []
    return logistic_methods(plan.analyses, ran=status.loc[status["status"] == "ran", "analysis"].astype(str))


def _method(results: Results, table: str) -> str:
    """The interval method recorded in a result table's ``method`` column ("" if absent)."""
    frame = results.tables.get(table)
    if frame is None or "method" not in frame or frame.empty:
        return ""
    return str(frame["method"].iloc[0])


def _frozen_rules(results: Results, number_format: NumberFormat, labels: LabelRegistry) -> list[str]:
    """"NR/ER predicted when MIP3a ≤ 4.703" for each validated marker (the shared cut-off rule)."""
    tables = getattr(results, "tables", {}) or {}
    val = tables.get("biomarker_validation")
    if val is None or val.empty or not {"marker", "cutoff", "direction"} <= set(val.columns):
        return []
    return list(dict.fromkeys(
        cutoff_rule(analyte_label(labels, r["marker"], unit=False), number_format.cutoff(r["cutoff"]),
                    r["direction"], "NR/ER") for _, r in val.iterrows()))
