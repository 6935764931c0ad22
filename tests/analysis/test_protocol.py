"""Protocol schema: presets load, every wrong key or value is reported with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartscope.analysis.protocol import PRESET_PROTOCOLS, ProtocolError, load_protocol, parse_protocol
from cartscope.clinical.endpoints import EndpointRules, TimeToEventRule


@pytest.mark.parametrize("name", PRESET_PROTOCOLS)
def test_presets_load_and_round_trip(name: str, tmp_path: Path) -> None:
    protocol = load_protocol(name)
    assert protocol.name == name
    path = tmp_path / f"{name}.yaml"
    path.write_text(protocol.to_yaml())
    assert load_protocol(path) == protocol


def test_jin2023_encodes_the_papers_choices() -> None:
    p = load_protocol("jin2023")
    rules = p.endpoint_rules()
    assert rules.early_relapse_days == 182.625
    assert rules.index_infusion == 1
    assert p.biomarkers is not None
    assert (p.biomarkers.timepoint, p.biomarkers.reference, p.biomarkers.ci_method) == (
        "il6_peak", "healthy_donor_mean", "wilson-modified"
    )
    assert p.biomarkers.markers == ("MIP3a", "Eotaxin")


def test_li2023_writes_down_both_efs_readings() -> None:
    rules = load_protocol("li2023").endpoint_rules()
    assert rules.index_infusion == "CART2"
    by_name = {r.name: r for r in rules.endpoints}
    assert by_name["efs_hsct_event"].hsct == "event"
    assert by_name["efs_hsct_censored"].hsct == "censor"
    assert isinstance(by_name["os"], TimeToEventRule)


def test_default_endpoints_when_none_given() -> None:
    p = parse_protocol({"name": "x"})
    assert p.endpoint_rules() == EndpointRules()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x", "surival": {}}, "surival: unknown key"),
        ({"title": "no name"}, "name: required key is missing"),
        ({"name": "x", "survival": {"conf_type": "loglog"}}, "survival.conf_type: Input should be"),
        ({"name": "x", "survival": {"level": 1.5}}, "survival.level: Input should be less than 1"),
        ({"name": "x", "endpoints": {"early_relapse_dayz": 180}}, "endpoints.early_relapse_dayz: unknown key"),
        (
            {"name": "x", "endpoints": {"endpoints": [{"name": "efs", "hsct": "evnt"}]}},
            "endpoints.endpoints.0.hsct: Input should be 'event', 'censor' or 'ignore'",
        ),
        ({"name": "x", "endpoints": {"endpoints": [{"relapse": True}]}}, "endpoints.endpoints.0.name: required"),
        ({"name": "x", "endpoints": {"early_relapse_days": -1}}, "endpoints: early_relapse_days must be positive"),
        ({"name": "x", "biomarkers": {"fdr_method": "fdr"}}, "biomarkers.fdr_method: Input should be"),
        ({"name": "x", "sections": ["cohort", "cohort"]}, "sections: Value error, sections must not repeat"),
        ({"name": "x", "sections": ["histogram"]}, "sections.0: Input should be"),
        (["not", "a", "mapping"], "a protocol must be a mapping"),
    ],
)
def test_schema_errors_name_the_key(data: object, expected: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data, "study.yaml")
    assert any(expected in line for line in info.value.problems), info.value.problems
    assert str(info.value).startswith("study.yaml: ")


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="no such protocol file; built-in presets are jin2023"):
        load_protocol(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ProtocolError, match="not valid YAML"):
        load_protocol(bad)


def test_all_errors_are_reported_at_once() -> None:
    data = {"name": "x", "survival": {"conf_type": "bad", "levels": 0.9}, "extra": 1}
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    # the old section form: a lead line saying so, then each of the three wrong keys
    assert len(info.value.problems) == 4 and "no 'version' key" in info.value.problems[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESET_PROTOCOLS)
def test_presets_are_plans_that_check_cleanly_on_their_cohorts(name: str) -> None:
    from cartscope.analysis.plan.check import check_plan
    from cartscope.analysis.presets import synthesize

    plan = load_protocol(name)
    assert plan.version == 1 and plan.analyses
    findings = check_plan(plan, synthesize(name, seed=2023), f"{name}.yaml")
    assert [str(f) for f in findings if f.is_error] == []
