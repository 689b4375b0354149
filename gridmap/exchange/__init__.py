"""A city's own data in and out.

In: read a file (GDAL through pyogrio), map its columns to a layer's fields, bring it to WGS84,
check it into one report, show what would change, and write it all-or-nothing
(:mod:`.services.imports`). Out: any layer, in the formats and CRSs partners use, with the same
fields, so what goes out comes back in unchanged (:mod:`.services.exports`).

The pure parts (no Flask, no database): :mod:`.layers` (what each layer holds),
:mod:`.reading` (files to frames), :mod:`.mapping` (their columns to ours), :mod:`.georef`
(CRS, GCJ-02/BD-09, datum-shift detection), :mod:`.validation` (the problems) and
:mod:`.report`. The services read and write the database through the repositories.
"""
