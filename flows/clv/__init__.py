"""Customer lifetime value: BG/NBD (repeat purchasing) and Gamma-Gamma (spend per purchase), fitted by
maximum likelihood with scipy, and the discounted value over a horizon (docs/customer_value.md).

Plain numpy/scipy functions over per-customer arrays, no loop over customers. The dbt Python models
`int_clv_parameters_estimated` and `int_customer_clv_predicted` call them; the tests call them directly.
"""
