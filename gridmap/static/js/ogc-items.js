// The OGC API items and item pages: a small Leaflet map of the features listed on the page.
// Reads the features (CRS84 GeoJSON: a page's map is always drawn from CRS84, whatever `crs` the
// JSON alternate keeps) and the basemap settings from JSON blocks the template wrote; no request
// of its own.
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
  else if (config.extent) map.fitBounds([[config.extent[1], config.extent[0]], [config.extent[3], config.extent[2]]]);
  else map.setView([0, 0], 2);
  el.dataset.features = String(features.length);
})();
