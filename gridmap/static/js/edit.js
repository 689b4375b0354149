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
    Promise.all([C.getJSON("/edits/facilities/changes", {}), C.getJSON("/edits/grids/changes", {})])
      .then(function (answers) {
        var changes = answers[0].changes.concat(answers[1].changes.map(function (c) {
          return Object.assign({}, c, { grid: true });
        }));
        changes.sort(function (a, b) { return a.changed_at < b.changed_at ? 1 : a.changed_at > b.changed_at ? -1 : 0; });
        var items = changes.slice(0, 20).map(function (c) {
          var name = (c.after || {}).name || (c.before || {}).name || c.code;
          var what = (c.grid ? S.gridOps : S.ops)[c.op] || c.op;
          return el("li", "", [el("span", "gdx-op", what + " · " + name),
            el("small", "", C.localTime(c.changed_at) + " · " + c.changed_by)]);
        });
        $("gdx-history").replaceChildren.apply($("gdx-history"), items);
      }).catch(function () { /* the map works without it */ }).finally(function () { pending -= 1; });
  }

  // ------------------------------------------------------------------ grid boundaries
  // Three modes on the grids in view. Reshape: the grids become editable polygons (vertices
  // dragged with Geoman), the changed ones saved together so neighbours move their shared edge
  // at once. Split: click a grid, then draw a line across it. Merge: click neighbours, then
  // merge them into the first one clicked. The server checks the tiling and records each change.

  var grids = L.layerGroup().addTo(map);
  window.gridmap.editedGrids = grids;
  // Where a refused change would break the tiling (the server's places), in red until the next
  // change or mode.
  var problemPlaces = L.layerGroup().addTo(map);
  var changedGrids = {};
  var mode = null;       // "reshape" | "split" | "merge" | null
  var picked = [];       // the grid layers clicked in split and merge modes, in order
  var GRID_STYLE = { color: "#b35900", weight: 2, fillOpacity: 0.05 };
  var PICKED_STYLE = { color: "#c0392b", weight: 4, fillOpacity: 0.2 };
  var MODES = { reshape: "gdx-g-edit", split: "gdx-g-split", merge: "gdx-g-merge" };

  function gridStatus(text, kind) { $("gdx-g-status").textContent = text || ""; $("gdx-g-status").dataset.kind = kind || ""; }

  function markChanged(layer) {
    changedGrids[layer.feature.properties.code] = layer;
    var n = Object.keys(changedGrids).length;
    $("gdx-g-save").disabled = n === 0;
    gridStatus(C.fmt(S.gridsChanged, { n: n }));
  }

  function gridName(layer) { return layer.feature.properties.name || layer.feature.properties.code; }

  function showPicked() {
    grids.eachLayer(function (layer) { layer.setStyle(picked.indexOf(layer) >= 0 ? PICKED_STYLE : GRID_STYLE); });
    $("gdx-g-merge-go").disabled = !(mode === "merge" && picked.length >= 2);
  }

  function pick(layer) {
    if (map.pm.globalDrawModeEnabled()) return;  // a click of the line being drawn
    if (mode === "split") {
      picked = [layer];
      showPicked();
      gridStatus(C.fmt(S.splitDraw, { name: gridName(layer) }));
      map.pm.enableDraw("Line", { snappable: false });
    } else if (mode === "merge") {
      var at = picked.indexOf(layer);
      if (at >= 0) picked.splice(at, 1); else picked.push(layer);
      showPicked();
      gridStatus(picked.length ? C.fmt(S.mergePicked, { n: picked.length, names: picked.map(gridName).join("、"),
        keep: gridName(picked[0]) }) : S.mergeHint);
    }
  }

  function loadGrids() {
    var b = map.getBounds().pad(0.05);
    pending += 1;
    return C.getJSON("/layers/grids.geojson", { bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(6); }).join(",") }).then(function (collection) {
      grids.clearLayers();
      changedGrids = {};
      picked = [];
      L.geoJSON(collection, { style: GRID_STYLE,
        onEachFeature: function (f, layer) {
          grids.addLayer(layer);  // on the map first: Geoman edits layers that are shown
          if (mode === "reshape") {
            layer.pm.enable({ snappable: true, allowSelfIntersection: false });
            layer.on("pm:edit", function () { markChanged(layer); });
          } else {
            layer.bindTooltip(f.properties.name || f.properties.code, { sticky: true });
            layer.on("click", function () { pick(layer); });
          }
        } });
      showPicked();
    }).finally(function () { pending -= 1; });
  }

  function setMode(next) {
    map.pm.disableDraw();
    mode = next;
    Object.keys(MODES).forEach(function (m) { $(MODES[m]).setAttribute("aria-pressed", m === mode ? "true" : "false"); });
    $("gdx-g-save").hidden = mode !== "reshape";
    $("gdx-g-save").disabled = true;
    $("gdx-g-merge-go").hidden = mode !== "merge";
    grids.clearLayers();
    problemPlaces.clearLayers();
    changedGrids = {};
    picked = [];
    gridStatus(mode === "split" ? S.splitHint : mode === "merge" ? S.mergeHint : "");
    if (mode) loadGrids();
  }

  Object.keys(MODES).forEach(function (m) {
    $(MODES[m]).addEventListener("click", function () {
      if (mode === m) { setMode(null); return; }
      if (map.getZoom() < MIN_ZOOM) { gridStatus(S.zoomIn); return; }
      setMode(m);
    });
  });

  function afterGridChange(text) {
    problemPlaces.clearLayers();
    gridStatus(text, "ok");
    loadGrids();
    loadHistory();
  }

  function refused(err) {
    gridStatus(C.fmt(S.failed, { reason: C.reasonOf(err) }), "error");
    var places = err && err.body && err.body.error && err.body.error.places;
    if (!places) return;
    problemPlaces.clearLayers();
    L.geoJSON(places, { style: { color: "#d00", weight: 3, fillColor: "#f33", fillOpacity: 0.5 },
      pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 8, color: "#d00" }); },
      onEachFeature: function (f, layer) {
        problemPlaces.addLayer(layer);
        layer.bindTooltip(C.fmt(S.problemPlace, { area: f.properties.area_m2 }));
      } });
  }

  $("gdx-g-save").addEventListener("click", function () {
    var body = { grids: {} };
    Object.keys(changedGrids).forEach(function (code) {
      // Full precision: rounding shared edges to 6 decimals (about 10 cm) would make slivers
      // of overlap with the neighbours left as they were.
      body.grids[code] = changedGrids[code].toGeoJSON(false).geometry;
    });
    $("gdx-g-save").disabled = true;
    send("/edits/grids", body).then(function (answer) {
      afterGridChange(C.fmt(S.gridsSaved, { n: answer.grids.length, moved: answer.moved_buildings }));
    }, function (err) {
      $("gdx-g-save").disabled = false;
      refused(err);
    });
  });

  function split(line) {
    var grid = picked[0];
    if (!grid) { gridStatus(S.splitHint); return; }
    var code = grid.feature.properties.code;
    send("/edits/grids/" + encodeURIComponent(code) + "/split", { line: line.toGeoJSON(false).geometry })
      .then(function (answer) {
        afterGridChange(C.fmt(S.splitDone, { name: gridName(grid), n: answer.new_grids.length + 1,
          codes: answer.new_grids.map(function (g) { return g.code; }).join("、"), moved: answer.moved_buildings }));
      }, refused);
  }

  $("gdx-g-merge-go").addEventListener("click", function () {
    if (picked.length < 2) return;
    var names = picked.map(gridName).join("、");
    if (!window.confirm(C.fmt(S.confirmMerge, { names: names, keep: gridName(picked[0]) }))) return;
    $("gdx-g-merge-go").disabled = true;
    send("/edits/grids/merge", { codes: picked.map(function (l) { return l.feature.properties.code; }),
      keep: picked[0].feature.properties.code }).then(function (answer) {
      var text = C.fmt(S.mergeDone, { n: answer.merged.length + 1, name: answer.name, moved: answer.moved_buildings });
      if (answer.released_workers.length) {
        text += " " + C.fmt(S.mergeReleased, { names: answer.released_workers.map(function (w) { return w.name; }).join("、"),
          cases: answer.handed_over_cases.length });
      }
      afterGridChange(text);
    }, function (err) { showPicked(); refused(err); });
  });

  map.pm.addControls({ position: "topleft", drawMarker: true, drawCircleMarker: false,
    drawPolyline: false, drawRectangle: false, drawPolygon: false, drawCircle: false, drawText: false,
    editMode: false, dragMode: true, cutPolygon: false, removalMode: false, rotateMode: false });
  map.pm.setLang(config.lang === "en" ? "en" : "zh");
  map.on("pm:create", function (e) {
    if (e.shape === "Line") {  // the cut of a split: sent, then gone (the grids redraw)
      map.pm.disableDraw();
      map.removeLayer(e.layer);
      split(e.layer);
      return;
    }
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
