// The OGC API items and item pages: a small Leaflet map of the features listed on the page.
// Reads the features (WGS84 GeoJSON, or lat/lon when the page was asked in EPSG:4326) and the
// basemap settings from JSON blocks the template wrote; no request of its own.
(function () {
  "use strict";
  const el = document.getElementById("gm-ogc-map");
  if (!el || typeof L === "undefined") return;
  const features = JSON.parse(document.getElementById("gm-ogc-features").textContent);
  const config = JSON.parse(document.getElementById("gm-ogc-config").textContent);
  const map = L.map(el, { scrollWheelZoom: false });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  const layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
    style: { color: "#c0392b", weight: 2, fillOpacity: 0.15 },
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, color: "#c0392b" }),
    onEachFeature: (f, l) => l.bindTooltip(String(f.id)),
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 17, padding: [12, 12] });
  else map.setView([41.8, 123.43], 11);
  el.dataset.features = String(features.length);
})();
