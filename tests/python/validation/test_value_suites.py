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
    )


def test_parameters_must_be_positive_finite_and_converged(value_faults) -> None:
    assert failed(value_faults, "clv_model_parameters") == {
        ("expect_column_values_to_be_in_set", ("estimate_is_finite",)),
        ("expect_column_values_to_be_between", ("estimate",)),
        ("expect_column_values_to_be_in_set", ("converged",)),
    }


def test_p_alive_is_a_probability_and_clv_not_negative(value_faults) -> None:
    assert failed(value_faults, "customer_lifetime_value") == {
        ("expect_column_values_to_be_between", ("p_alive",)),
        ("expect_column_values_to_be_between", ("clv",)),
    }


def test_components_add_up_and_every_customer_has_a_row(value_faults) -> None:
    assert failed(value_faults, "customer_engagement_value") == {
        ("expect_column_pair_values_to_be_equal", ("total_cents", "components_cents"))
    }
    assert failed(value_faults, "customer_profitability") == {
        ("expect_column_pair_values_to_be_equal", ("profit_cents", "components_cents")),
        ("expect_table_row_count_to_equal", ()),
    }
    assert value_faults.result_for("customer_equity").success
    assert value_faults.result_for("clv_holdout_validation").success
