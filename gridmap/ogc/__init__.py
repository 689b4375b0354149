"""OGC API Features (Parts 1 Core, 2 CRS by reference, 3 Filtering) over the layer registry.

``/ogc/`` serves every public layer as a collection (districts … buildings, streets,
facilities, each facility type), the public view of cases, and for coverage readers the current
coverage result of every rule. Items are built as GeoJSON text in PostgreSQL and streamed; pages
use keyset cursors; filters are CQL2 (text or JSON) parsed by pygeofilter and bound in SQL on
whitelisted properties only.
"""
