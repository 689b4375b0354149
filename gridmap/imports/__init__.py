"""A city's own data in: read a file (GDAL through pyogrio), map its fields, bring it to WGS84,
validate it into one report, show what would change, and write it all-or-nothing.

The pure parts (no Flask, no database): :mod:`.layers` (what each layer holds),
:mod:`.reading` (files to frames), :mod:`.mapping` (their columns to ours), :mod:`.georef`
(CRS, GCJ-02/BD-09, datum-shift detection), :mod:`.validation` (the problems) and
:mod:`.report`. The services read the database's context (parents, existing rows, reference
streets) through the repositories and write.
"""
