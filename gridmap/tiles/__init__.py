"""Vector tiles (issue 10): the map's layers as Mapbox Vector Tiles built by PostGIS, with
TileJSON and the OGC API Tiles description of each tileset."""
