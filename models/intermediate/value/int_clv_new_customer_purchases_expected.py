"""E[X(t)]: the repeat purchases the fitted BG/NBD expects of a new customer in the t days after the
first purchase, for t = 0 ... the days from the first acquisition to the as-of date (one row per
day). clv_holdout_validation adds it up over the customers of the calibration period, each from
their first purchase, for the expected cumulative repeat purchases (Figure 4 of the paper)."""

import numpy as np
import pandas as pd

from flows.clv import bgnbd


def model(dbt, session):
    dbt.config(materialized="table")
    estimates = dbt.ref("int_clv_parameters_estimated").df()
    calibration = dbt.ref("int_clv_calibration_resolved").df().iloc[0]
    first = dbt.ref("int_as_of_date_resolved").df().iloc[0]
    rows = estimates[estimates["model"] == "bg_nbd"].set_index("parameter")["estimate"]
    params = np.array([float(rows.get(name, np.nan)) for name in bgnbd.PARAMETERS])
    days = 0
    if pd.notna(first["first_order_date"]):
        days = (pd.Timestamp(first["as_of_date"]) - pd.Timestamp(first["first_order_date"])).days
    offsets = np.arange(days + 1)
    return pd.DataFrame(
        {
            "days_since_first_purchase": offsets.astype("int64"),
            "expected_repeat_purchases": bgnbd.expected_purchases_new(
                params, offsets / float(calibration["time_unit_days"])
            ),
        }
    )
