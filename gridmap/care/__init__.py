"""Residents in need of care (未呼先应): the register per grid, visits, monthly zero reports.

Pure rules live here (:mod:`gridmap.care.rules`); ``services/`` own the transactions and the
privacy checks, ``repositories/`` the SQL (long statements in ``sql/``), ``web/`` the JSON API.
The strictest privacy in the product: names, conditions, addresses and phones only for people
whose scope holds the grid, every view of an entry logged; everyone else sees counts per grid
with small counts suppressed.
"""
