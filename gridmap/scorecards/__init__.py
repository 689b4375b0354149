"""Monthly scorecards (考核) per grid, community, sub-district and department.

A feature package of its own, not part of ``cases``: a scorecard gathers figures from several
features — today the cases (:mod:`gridmap.cases.services.scorecard`), later the care visits, the
monthly zero reports and the volunteer hours of issue 13 — and ranks units on them. Each feature
keeps its own definitions and SQL and offers them as a *metric source*
(:data:`gridmap.scorecards.columns.SOURCES`); this package parses the month, applies the
reader's area, merges the sources by unit and writes JSON, CSV and the Excel workbook.
"""
