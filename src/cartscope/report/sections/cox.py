"""Multivariable Cox regression: forest plot and table per model."""

from __future__ import annotations

from cartscope.report.items import FigureItem, Item, TableItem, recipe
from cartscope.report.labels import term_labels
from cartscope.report.models import model_figures, model_table_notes
from cartscope.report.sections._base import SectionInput
from cartscope.report.tables import cox_table
from cartscope.report.tables.base import Table
from cartscope.report.tables.formatting import fmt_num


def cox_section(inp: SectionInput) -> list[Item]:
    items: list[Item] = []
    coefs = inp.table("cox_coefficients")
    models = inp.table("cox_models")
    for i, spec in enumerate(inp.protocol.cox):
        res = inp.obj(f"cox/{spec.endpoint}/{i}")
        if res is None:
            continue
        name = inp.labels.text(spec.endpoint).lower()
        labels = term_labels(inp.labels, spec.covariates, [str(t) for t in res.names])
        items.append(FigureItem(f"forest_{spec.endpoint}_{i}",
                                recipe("figures.forest:forest_figure", res, labels=labels, p_format=inp.fmt.p),
                                f"Hazard ratios of {name} (multivariable Cox model, {spec.ties} ties) with 95% CI."))
        if coefs is not None:
            part = coefs[coefs["model"].astype(str) == str(i)]
            notes: list[str] = [f"Cox proportional-hazards model of {name}, {spec.ties} method for ties; "
                                "HR, hazard ratio; CI, confidence interval."]
            if models is not None:
                mrow = models[models["model"].astype(str) == str(i)]
                if len(mrow):
                    r = mrow.iloc[0]
                    c_ci = (f" (95% CI {fmt_num(r['concordance_lower'], 2)}-{fmt_num(r['concordance_upper'], 2)})"
                            if "concordance_lower" in r and r["concordance_lower"] == r["concordance_lower"] else "")
                    notes.append(f"n = {int(r['n'])}, events = {int(r['events'])}; concordance "
                                 f"{fmt_num(r['concordance'], 2)}{c_ci}; likelihood-ratio test {inp.fmt.p_text(r['lr_p'])}.")
                    notes.extend(model_table_notes(r))
            t = cox_table(part.drop(columns="model"), labels=labels, p_format=inp.fmt.p,
                          title=f"Cox regression of {name}")
            items.append(TableItem(f"cox_{spec.endpoint}_{i}", Table(t.frame, t.display, t.title, tuple(notes))))
    objects = getattr(inp.results, "objects", {}) or {}
    items.extend(model_figures({k: v for k, v in objects.items() if k.startswith(("cox_predicted/", "cox_adjusted/"))}))
    return items
