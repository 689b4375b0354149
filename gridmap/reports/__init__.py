"""Planners' reports: a coverage report per area and rule, as a PDF and as one self-contained
(offline) HTML map.

A feature package of its own rather than part of ``coverage``: it only reads what the coverage
services answer (through :mod:`gridmap.coverage.services`), and it brings heavy dependencies
(folium, WeasyPrint, matplotlib-free SVG drawing) that the coverage page does not need.
"""
