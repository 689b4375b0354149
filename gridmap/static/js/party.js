/*
 * gridmap — the Party organisation map (党建地图). Per district: grids shaded by their count of
 * Party-member central households (/api/party/grids.geojson; small counts are null and shown as
 * "fewer than 5"), grid Party branches as outlines, building Party groups as points, and — only
 * for staff, only in their scope — the households as named points. Strings come from the
 * template; nothing here decides who sees what: the API answers each person as they may see.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var S = G.strings;
  var config = G.config;
  var $ = function (id) { return document.getElementById(id); };
  var status = $("gv-party-status");
  var select = $("gv-party-district");

  var map = L.map("gv-party-map", { minZoom: 9, maxZoom: 19, center: [41.80, 123.43], zoom: 12 });
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  } else {
    map.getContainer().classList.add("gv-map-plain");
  }
  var shades = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801"];
  function shade(n) {
    if (n === null || n === undefined) return "#fde8d6";
    return shades[n <= 0 ? 0 : n < 2 ? 1 : n < 4 ? 2 : 3];
  }
  function countText(n) { return n === null ? S.fewer.replace("{n}", String(config.smallCount)) : String(n); }

  var grids = L.geoJSON(null, {
    style: function (f) {
      return { color: "#b08968", weight: 0.6, fillColor: shade(f.properties.households), fillOpacity: 0.55 };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(G.escapeHtml(p.name) + "<br>" + G.escapeHtml(p.branch || S.noBranch) + "<br>" +
        S.groups + " " + p.groups + " · " + S.households + " " + G.escapeHtml(countText(p.households)));
    },
  }).addTo(map);
  var branches = L.geoJSON(null, {
    interactive: false, style: { color: "#c1121f", weight: 1.2, opacity: 0.7, fill: false, dashArray: "4 3" },
  }).addTo(map);
  var groups = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 5, color: "#780000", weight: 1, fillColor: "#c1121f", fillOpacity: 0.9 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      var text = "<b>" + G.escapeHtml(p.name) + "</b><br>" + G.escapeHtml(p.branch);
      if (p.leader) text += "<br>" + S.leader + " " + G.escapeHtml(p.leader);
      layer.bindPopup(text);
    },
  });
  var households = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 4, color: "#7a5c00", weight: 1, fillColor: "#ffb703", fillOpacity: 1 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup("<b>" + G.escapeHtml(p.name) + "</b> " + S.household + "<br>" +
        G.escapeHtml([p.building_name, p.unit, p.household].filter(Boolean).join(" ")));
    },
  });
  // Points only where they can be told apart: a district holds thousands of buildings.
  var POINTS_FROM_ZOOM = 15;
  function showPoints() {
    [groups, households].forEach(function (layer) {
      if (map.getZoom() >= POINTS_FROM_ZOOM) map.addLayer(layer); else map.removeLayer(layer);
    });
  }
  map.on("zoomend", showPoints);

  function sum(features, key) {
    var total = 0, hidden = false;
    features.forEach(function (f) {
      var n = f.properties[key];
      if (n === null) hidden = true; else total += n;
    });
    return String(total) + (hidden ? "+" : "");
  }

  function load(district) {
    status.textContent = S.loading;
    var area = { district: district };
    var asks = [G.getJSON("/party/grids.geojson", area), G.getJSON("/party/branches.geojson", area),
      G.getJSON("/party/groups.geojson", area)];
    if (config.staff) asks.push(G.getJSON("/party/households.geojson", area));
    Promise.all(asks).then(function (answers) {
      [grids, branches, groups, households].forEach(function (layer) { layer.clearLayers(); });
      grids.addData(answers[0]);
      branches.addData(answers[1]);
      groups.addData(answers[2]);
      if (answers[3]) households.addData(answers[3]);
      $("gv-n-branches").textContent = String(answers[1].features.length);
      $("gv-n-groups").textContent = String(answers[2].features.length);
      $("gv-n-households").textContent = sum((answers[0].communities || []).map(function (c) {
        return { properties: c };
      }), "households");
      if (answers[0].features.length) map.fitBounds(grids.getBounds());
      showPoints();
      status.textContent = "";
    }).catch(function (err) {
      status.textContent = S.loadFailed.replace("{reason}", G.reasonOf(err, ""));
    });
  }

  G.getJSON("/layers/districts.geojson", { zoom: 9 }).then(function (collection) {
    collection.features.forEach(function (f) {
      var option = document.createElement("option");
      option.value = f.properties.code;
      option.textContent = f.properties.name;
      select.appendChild(option);
    });
    var mine = String(config.area || "").slice(0, 6);
    if (mine && select.querySelector('option[value="' + mine + '"]')) select.value = mine;
    if (select.value) load(select.value);
  }).catch(function (err) {
    status.textContent = S.loadFailed.replace("{reason}", G.reasonOf(err, ""));
  });
  select.addEventListener("change", function () { load(select.value); });
})();
