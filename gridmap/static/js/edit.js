/*
 * gridmap — 编辑设施: facilities on the map, edited with Leaflet-Geoman. Draw a marker to add
 * one, drag (drag mode) to move one, click one to change or retire it. The server checks every
 * save (type, place, territory) and records it; this page only sends and redraws.
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  var S = C.S;
  var el = C.el;
  var config = C.config;
  var $ = function (id) { return document.getElementById(id); };
  var MIN_ZOOM = 14;
  var pending = 0;
  var handle = C.createMap("gdx-edit-map", {});
  var map = handle.map;
  var facilities = L.layerGroup().addTo(map);
  var editing = null;   // {marker, facility|null}
  window.gridmap = { map: map, isIdle: function () { return pending === 0 && handle.isIdle(); } };

  config.types.forEach(function (t) {
    var option = el("option", "", t.name);
    option.value = t.code;
    $("gdx-f-type").appendChild(option);
  });
  var typeNames = {};
  config.types.forEach(function (t) { typeNames[t.code] = t; });

  function status(text, kind) { $("gdx-f-status").textContent = text || ""; $("gdx-f-status").dataset.kind = kind || ""; }

  function send(path, body) {
    pending += 1;
    return C.request(path, { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" } }).then(function (result) {
      if (!result.ok) throw C.errorFrom(result);
      return result.body;
    }).finally(function () { pending -= 1; });
  }

  function icon(type) {
    var colour = (typeNames[type] && typeNames[type].color) || "#3366cc";
    return L.divIcon({ className: "gdx-marker", html: '<span style="background:' + colour + '"></span>',
      iconSize: [16, 16], iconAnchor: [8, 8] });
  }

  function addMarker(f) {
    var marker = L.marker([f.lat, f.lon], { icon: icon(f.type), title: f.name });
    marker.feature = f;
    marker.on("click", function () { openForm(marker, marker.feature); });
    marker.on("pm:dragend", function () {
      var p = marker.getLatLng();
      send("/edits/facilities/" + encodeURIComponent(marker.feature.code), { op: "move", lon: p.lng, lat: p.lat })
        .then(function (body) {
          marker.feature = body.facility;
          status(C.fmt(S.moved, { name: body.facility.name }), "ok");
          loadHistory();
        }, function (err) {
          marker.setLatLng([marker.feature.lat, marker.feature.lon]);
          status(C.fmt(S.failed, { reason: C.reasonOf(err) }), "error");
        });
    });
    facilities.addLayer(marker);
    return marker;
  }

  function loadFacilities() {
    if (map.getZoom() < MIN_ZOOM) { facilities.clearLayers(); status(S.zoomIn); return; }
    var b = map.getBounds().pad(0.1);
    pending += 1;
    C.getJSON("/layers/facilities.geojson", { bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(6); }).join(",") }).then(function (collection) {
      facilities.clearLayers();
      collection.features.forEach(function (f) {
        var p = f.properties;
        addMarker({ code: p.code, type: p.type, name: p.name, capacity: p.capacity, hours: p.hours,
          lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] });
      });
      if ($("gdx-f-status").textContent === S.zoomIn) status("");
    }).catch(function (err) { status(C.reasonOf(err), "error"); }).finally(function () { pending -= 1; });
  }

  function openForm(marker, facility) {
    editing = { marker: marker, facility: facility };
    $("gdx-f-form").hidden = false;
    $("gdx-f-title").textContent = facility ? C.fmt(S.editTitle, { code: facility.code }) : S.newTitle;
    $("gdx-f-type").value = facility ? facility.type : config.types[0].code;
    $("gdx-f-name").value = facility ? facility.name : "";
    $("gdx-f-capacity").value = facility && facility.capacity !== null && facility.capacity !== undefined ? facility.capacity : "";
    $("gdx-f-hours").value = facility ? facility.hours || "" : "";
    $("gdx-f-retire").hidden = !facility;
    $("gdx-f-name").focus();
  }

  function closeForm(dropNew) {
    if (dropNew && editing && !editing.facility) map.removeLayer(editing.marker);
    editing = null;
    $("gdx-f-form").hidden = true;
  }

  $("gdx-f-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var current = editing;
    var body = { type: $("gdx-f-type").value, name: $("gdx-f-name").value, hours: $("gdx-f-hours").value };
    if ($("gdx-f-capacity").value !== "") body.capacity = Number($("gdx-f-capacity").value);
    var request;
    if (current.facility) {
      body.op = "update";
      request = send("/edits/facilities/" + encodeURIComponent(current.facility.code), body);
    } else {
      var p = current.marker.getLatLng();
      body.lon = p.lng;
      body.lat = p.lat;
      request = send("/edits/facilities", body);
    }
    request.then(function (answer) {
      map.removeLayer(current.marker);
      facilities.removeLayer(current.marker);
      addMarker(answer.facility);
      closeForm(false);
      status(S.saved, "ok");
      loadHistory();
    }, function (err) { status(C.fmt(S.failed, { reason: C.reasonOf(err) }), "error"); });
  });
  $("gdx-f-cancel").addEventListener("click", function () { closeForm(true); status(""); });
  $("gdx-f-retire").addEventListener("click", function () {
    var current = editing;
    if (!window.confirm(C.fmt(S.confirmRetire, { name: current.facility.name }))) return;
    send("/edits/facilities/" + encodeURIComponent(current.facility.code), { op: "retire" }).then(function () {
      facilities.removeLayer(current.marker);
      closeForm(false);
      status(C.fmt(S.retired, { name: current.facility.name }), "ok");
      loadHistory();
    }, function (err) { status(C.fmt(S.failed, { reason: C.reasonOf(err) }), "error"); });
  });

  function loadHistory() {
    pending += 1;
    C.getJSON("/edits/facilities/changes", {}).then(function (body) {
      var items = body.changes.slice(0, 20).map(function (c) {
        var name = (c.after || c.before || {}).name || c.code;
        return el("li", "", [el("span", "gdx-op", (S.ops[c.op] || c.op) + " · " + name),
          el("small", "", C.localTime(c.changed_at) + " · " + c.changed_by)]);
      });
      $("gdx-history").replaceChildren.apply($("gdx-history"), items);
    }).catch(function () { /* the map works without it */ }).finally(function () { pending -= 1; });
  }

  // ------------------------------------------------------------------ grid boundaries
  // Editing on: the grids in view become editable polygons (vertices dragged with Geoman);
  // the changed ones are saved together, so neighbours can move their shared edge at once.

  var grids = L.layerGroup().addTo(map);
  var changedGrids = {};

  function gridStatus(text, kind) { $("gdx-g-status").textContent = text || ""; $("gdx-g-status").dataset.kind = kind || ""; }

  function markChanged(layer) {
    changedGrids[layer.feature.properties.code] = layer;
    var n = Object.keys(changedGrids).length;
    $("gdx-g-save").disabled = n === 0;
    gridStatus(C.fmt(S.gridsChanged, { n: n }));
  }

  function loadGrids() {
    var b = map.getBounds().pad(0.05);
    pending += 1;
    return C.getJSON("/layers/grids.geojson", { bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(6); }).join(",") }).then(function (collection) {
      grids.clearLayers();
      changedGrids = {};
      L.geoJSON(collection, { style: { color: "#b35900", weight: 2, fillOpacity: 0.05 },
        onEachFeature: function (f, layer) {
          grids.addLayer(layer);  // on the map first: Geoman edits layers that are shown
          layer.pm.enable({ snappable: true, allowSelfIntersection: false });
          layer.on("pm:edit", function () { markChanged(layer); });
        } });
    }).finally(function () { pending -= 1; });
  }

  $("gdx-g-edit").addEventListener("click", function () {
    var on = $("gdx-g-edit").getAttribute("aria-pressed") !== "true";
    $("gdx-g-edit").setAttribute("aria-pressed", on ? "true" : "false");
    if (on) {
      if (map.getZoom() < MIN_ZOOM) { gridStatus(S.zoomIn); $("gdx-g-edit").setAttribute("aria-pressed", "false"); return; }
      loadGrids();
    } else {
      grids.clearLayers();
      changedGrids = {};
      $("gdx-g-save").disabled = true;
      gridStatus("");
    }
  });

  $("gdx-g-save").addEventListener("click", function () {
    var body = { grids: {} };
    Object.keys(changedGrids).forEach(function (code) {
      // Full precision: rounding shared edges to 6 decimals (about 10 cm) would make slivers
      // of overlap with the neighbours left as they were.
      body.grids[code] = changedGrids[code].toGeoJSON(false).geometry;
    });
    $("gdx-g-save").disabled = true;
    send("/edits/grids", body).then(function (answer) {
      gridStatus(C.fmt(S.gridsSaved, { n: answer.grids.length, moved: answer.moved_buildings }), "ok");
      loadGrids();
      loadHistory();
    }, function (err) {
      $("gdx-g-save").disabled = false;
      gridStatus(C.fmt(S.failed, { reason: C.reasonOf(err) }), "error");
    });
  });

  map.pm.addControls({ position: "topleft", drawMarker: true, drawCircleMarker: false,
    drawPolyline: false, drawRectangle: false, drawPolygon: false, drawCircle: false, drawText: false,
    editMode: false, dragMode: true, cutPolygon: false, removalMode: false, rotateMode: false });
  map.pm.setLang(config.lang === "en" ? "en" : "zh");
  map.on("pm:create", function (e) {
    if (e.shape !== "Marker") return;
    map.pm.disableDraw();  // one facility at a time: its form comes first
    e.layer.setIcon(icon($("gdx-f-type").value || config.types[0].code));
    openForm(e.layer, null);
  });
  map.on("moveend", C.debounce(loadFacilities, 250));

  pending += 1;
  // Open on the city's middle at street level: facilities and grids show from there on.
  C.fitExtent(map).then(function () {
    map.setView(map.getCenter(), Math.max(map.getZoom(), MIN_ZOOM + 1), { animate: false });
    loadFacilities();
  }).finally(function () { pending -= 1; });
  loadHistory();
})();
