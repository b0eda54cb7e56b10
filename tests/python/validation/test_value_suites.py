"""The customer-value suites (flows/validation/suites/value.py) catch a fit gone wrong (a parameter
not positive or not finite, a fit that did not converge, P(alive) outside [0, 1], a negative CLV),
components that do not add up and a customer missing, on the hand-made warehouse."""

from __future__ import annotations

import pytest

from tests.python.validation.conftest import failed, shared_scenario

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def value_faults(tmp_path_factory, base_warehouse):
    return shared_scenario(
        tmp_path_factory,
        base_warehouse,
        "value",
        "update marts.clv_model_parameters set estimate = 'NaN'::double where parameter = 'r'",
        "update marts.clv_model_parameters set estimate = -1 where parameter = 'q'",
        "update marts.clv_model_parameters set converged = false where model = 'gamma_gamma'",
        "update marts.customer_lifetime_value set p_alive = 1.2 where customer_id = 'c1'",
        "update marts.customer_lifetime_value set clv = -0.01 where customer_id = 'c2'",
        "update marts.customer_engagement_value set network_value = 0.01 where customer_id = 'c1'",
        "update marts.customer_profitability set service_cost = 4.01 where customer_id = 'c1'",
        "delete from marts.customer_profitability where customer_id = 'c5'",
        "update marts.acquisition_channel_value set customers_with_cac = 2 where acquisition_channel = 'affiliate'",
        "update marts.acquisition_channel_value set cac = -5.25 where acquisition_channel = 'all'",
    )


def test_parameters_must_be_positive_finite_and_converged(value_faults) -> None:
    assert failed(value_faults, "clv_model_parameters") == {
        ("expect_column_values_to_be_in_set", ("estimate_is_finite",)),
        ("expect_column_values_to_be_between", ("estimate",)),
        ("expect_column_values_to_be_in_set", ("converged",)),
    }


def observed(report, mart: str) -> dict[str, str]:
    """{summary column: what its failure says} of the mart's failures."""
    return {", ".join(f.columns): f.observed for f in report.result_for(mart).failed}


def test_p_alive_is_a_probability_and_clv_not_negative(value_faults) -> None:
    # checked in DuckDB over every customer; GX validates the counts, and a failure names the customer
    assert failed(value_faults, "customer_lifetime_value") == {
        ("expect_column_values_to_be_between", ("p_alive_outside_0_1",)),
        ("expect_column_values_to_be_between", ("negative_clv",)),
    }
    assert observed(value_faults, "customer_lifetime_value") == {
        "p_alive_outside_0_1": "failed on 1 row (e.g. customer_id c1: p_alive 1.2)",
        "negative_clv": "failed on 1 row (e.g. customer_id c2: clv -0.01)",
    }


def test_components_add_up_and_every_customer_has_a_row(value_faults) -> None:
    assert failed(value_faults, "customer_engagement_value") == {
        ("expect_column_values_to_be_between", ("components_not_adding_up",))
    }
    assert observed(value_faults, "customer_engagement_value") == {
        "components_not_adding_up": "failed on 1 row (e.g. customer_id c1: engagement_value 38.00, "
        "lifetime_value 30.00, referral_value 6.00, network_value 0.01, knowledge_value 2.00)"
    }
    assert failed(value_faults, "customer_profitability") == {
        ("expect_column_values_to_be_between", ("components_not_adding_up",)),
        ("expect_column_values_to_be_between", ("customers_without_row",)),
    }
    assert observed(value_faults, "customer_profitability") == {
        "components_not_adding_up": "failed on 1 row (e.g. customer_id c1: profit 32.00, revenue 120.00, "
        "cost_of_goods 84.00, service_cost 4.01, acquisition_cost 0.00)",
        "customers_without_row": "failed on 1 row (e.g. customer_id c5)",
    }
    assert value_faults.result_for("customer_equity").success
    assert value_faults.result_for("clv_holdout_validation").success


def test_channel_cac_not_negative_and_customers_with_cac_among_the_channels_customers(value_faults) -> None:
    assert failed(value_faults, "acquisition_channel_value") == {
        ("expect_column_values_to_be_between", ("cac",)),
        ("expect_column_pair_values_a_to_be_greater_than_b", ("new_customers", "customers_with_cac")),
    }
