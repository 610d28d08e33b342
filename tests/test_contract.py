from pathlib import Path

import pandas as pd
import pandera.errors
import pytest

from frontdoor.records import contract, store
from frontdoor.records.docs import render_contract_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_contract_doc_is_current():
    assert (ROOT / "docs/data-contract.md").read_text(
        encoding="utf-8"
    ) == render_contract_markdown()


def test_every_event_table_declares_a_knowledge_date_column_it_has():
    for name in contract.EVENT_TABLES:
        table = contract.TABLES[name]
        assert table.knowledge_date in table.date_columns
    assert contract.TABLES["assessments"].knowledge_date == "authorisation_date"
    assert contract.TABLES["cp_plans"].knowledge_date == "start_date"
    assert set(contract.SENSITIVE_COLUMNS) == {"sex", "ethnicity", "disability", "idaci_decile"}


def _one_of_each() -> dict[str, pd.DataFrame]:
    d = pd.Timestamp("2024-05-01")
    return {
        "children": pd.DataFrame(
            [
                dict(
                    child_id="c1",
                    sex="F",
                    ethnicity="WBRI",
                    birth_month=pd.Timestamp("2015-03-01"),
                    disability=False,
                    household_id="h1",
                    idaci_decile=3,
                )
            ]
        ),
        "contacts": pd.DataFrame(
            [dict(contact_id="k1", child_id="c1", contact_date=d, source="6")]
        ),
        "referrals": pd.DataFrame(
            [
                dict(
                    referral_id="r1",
                    child_id="c1",
                    referral_date=d,
                    source="2A",
                    outcome="assessment",
                )
            ]
        ),
        "assessments": pd.DataFrame(
            [
                dict(
                    assessment_id="a1",
                    child_id="c1",
                    start_date=d,
                    authorisation_date=None,
                    factors="3B,16A",
                    outcome=None,
                )
            ]
        ),
        "section47_enquiries": pd.DataFrame(
            [dict(s47_id="s1", child_id="c1", start_date=d, icpc_date=None, outcome="no_icpc")]
        ),
        "cp_plans": pd.DataFrame(
            [dict(plan_id="p1", child_id="c1", start_date=d, end_date=None, initial_category="NEG")]
        ),
        "domestic_abuse_notifications": pd.DataFrame(
            [
                dict(
                    notification_id="n1",
                    child_id="c1",
                    notification_date=d,
                    dash_risk="high",
                    marac_referral=True,
                )
            ]
        ),
        "early_help_episodes": pd.DataFrame(
            [dict(episode_id="e1", child_id="c1", start_date=d, end_date=None)]
        ),
    }


def test_schema_round_trip_through_parquet(tmp_path):
    tables = _one_of_each()
    for name, frame in tables.items():
        contract.validate(contract.conform(frame, name), name)
    store.write_tables(tmp_path, tables, {"reference_date": "2025-03-31"})
    back = store.read_tables(tmp_path)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(back[name], contract.conform(frame, name))
        contract.validate(back[name], name)
    assert str(store.reference_date(tmp_path)) == "2025-03-31"


def test_schema_rejects_unknown_codes_and_factors():
    tables = _one_of_each()
    bad = tables["assessments"].assign(factors="3B,99Z")
    with pytest.raises(pandera.errors.SchemaErrors, match="unknown assessment factor"):
        contract.validate(contract.conform(bad, "assessments"), "assessments")
    bad_child = tables["children"].assign(ethnicity="XXXX")
    with pytest.raises(pandera.errors.SchemaErrors):
        contract.validate(contract.conform(bad_child, "children"), "children")
