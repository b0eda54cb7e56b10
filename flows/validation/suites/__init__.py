"""The suites of every mart, one module per domain, registered in this order: audit (the audit
figures, acquisition cohorts and customers), voice of the customer, personas and value. A new
domain gets its module here and its name in DOMAINS."""

import importlib

#: The domains' modules, in the order their suites are registered (and reported).
DOMAINS = ("audit", "voice", "personas", "value")

for _domain in DOMAINS:
    importlib.import_module(f"{__name__}.{_domain}")
