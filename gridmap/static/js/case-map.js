/*
 * gridmap — case map (案件地图). Fetches the filtered cases in view from /api/cases/points as
 * compact rows [id, lon, lat, state, overdue], and draws them either as clusters (individual
 * circle markers coloured by state once zoomed in; overdue ones ringed in red) or as a heatmap.
 * A click on a case opens a popup that fetches its category and description lazily and links to
 * its detail page. Area and department are picked by name (js/pickers.js). The filters live in
 * the page's URL, with the board's parameter names.
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  if (!C.requireAccount()) return;
  var S = C.S;
  var el = C.el;
  var $ = function (id) { return document.getElementById(id); };

  var FETCH_DELAY_MS = 250;
  var BBOX_PAD = 0.25;                 // fetch a margin around the view so short pans need nothing
  var OUTLINE_ZOOM = 11;               // simplification of the district outlines we draw
  // Area and department are picked by name (js/pickers.js); the URL keeps the board's codes.
  // A pick filters at once; so does emptying a picker (typing over a pick waits for the next pick).
  var onPick = function () { if (!problems().length) apply(); };
  var areaPicker = window.GridmapPickers.area(document.getElementById("gc-f-area"), { onPick: onPick });
  var departmentPicker = window.GridmapPickers.department(document.getElementById("gc-f-department"), { onPick: onPick });
  var LOCALE = C.config.lang === "en" ? "en-GB" : "zh-CN";
  var ID = 0, LON = 1, LAT = 2, STATE = 3, OVERDUE = 4;

  if (!window.L || !L.markerClusterGroup || !L.heatLayer) {
    var status = $("gc-cmap-status");
    status.textContent = S.leafletMissing;
    status.dataset.kind = "error";
    status.hidden = false;
    return;
  }

  var form = $("gc-cmap-filters");
  var panel = $("gc-cmap-panel");
  // A phone shows the map first; the filters stay one tap away. Closed before the map is made,
  // so that Leaflet measures the map at its real size.
  if (window.matchMedia("(max-width: 899px)").matches) panel.open = false;
  var handle = C.createMap("gc-cmap-map", { zoomControl: true });
  var map = handle.map;
  panel.addEventListener("toggle", function () { map.invalidateSize({ pan: false }); });
  var state = {
    filters: {}, rows: [], truncated: false, controller: null, loaded: false, heat: false, waiting: false,
    markers: new Map(),                // id -> circle marker, reused across fetches
  };

  // ------------------------------------------------------------------ status line

  function showStatus(text, kind) {
    var node = $("gc-cmap-status");
    node.textContent = text || "";
    node.dataset.kind = kind || "";
    node.hidden = !text;
  }
  handle.onError = function (reason) { showStatus(C.fmt(S.loadFailed, { reason: reason }), "error"); };

  // ------------------------------------------------------------------ district outlines

  // Our streets and grids appear from zoom 15 (case-common.js); below that the districts and
  // sub-districts give the clusters their place. Fetched once, simplified.
  map.createPane("gc-outlines").style.zIndex = "360";
  var outlineRenderer = L.svg({ pane: "gc-outlines", padding: 0.5 }).addTo(map);
  [["subdistricts", { color: "#5b6072", weight: 1.4, opacity: 0.8, dashArray: "6 5", fill: false }],
    ["districts", { color: "#1b1f3b", weight: 3, opacity: 0.85, fill: false }]].forEach(function (spec) {
    var layer = L.geoJSON(null, { pane: "gc-outlines", renderer: outlineRenderer, interactive: false,
      style: spec[1] }).addTo(map);
    C.getJSON("/layers/" + spec[0] + ".geojson", { zoom: OUTLINE_ZOOM })
      .then(function (collection) { layer.addData(collection); })
      .catch(function (err) { handle.onError(C.reasonOf(err)); });
  });

  // ------------------------------------------------------------------ points

  var clusters = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 60,
    disableClusteringAtZoom: 17, spiderfyOnMaxZoom: true,
  }).addTo(map);
  var heat = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 15, minOpacity: 0.35,
    gradient: { 0.2: "#2f6fb5", 0.45: "#13a3a3", 0.65: "#e3c31b", 0.85: "#f07f13", 1.0: "#c8102e" } });

  function markerClass(row) {
    return "gc-cmap-pt gc-cmap-pt-" + row[STATE] + (row[OVERDUE] ? " gc-cmap-pt-overdue" : "");
  }

  function newMarker(row) {
    var marker = L.circleMarker([row[LAT], row[LON]], {
      radius: 7, weight: row[OVERDUE] ? 3 : 1.5, fillOpacity: 0.92, className: markerClass(row),
    });
    marker.caseRow = row;
    marker.bindPopup(function () { return popupContent(marker.caseRow); }, { minWidth: 220, maxWidth: 300 });
    return marker;
  }

  /** Replace the drawn points by `rows`, reusing markers whose case did not change. */
  function drawClusters(rows) {
    var keep = new Map();
    var added = [];
    rows.forEach(function (row) {
      var marker = state.markers.get(row[ID]);
      if (marker && marker.caseRow[STATE] === row[STATE] && marker.caseRow[OVERDUE] === row[OVERDUE]) {
        keep.set(row[ID], marker);
        state.markers.delete(row[ID]);
      } else {
        marker = newMarker(row);
        keep.set(row[ID], marker);
        added.push(marker);
      }
    });
    clusters.removeLayers(Array.from(state.markers.values()));
    clusters.addLayers(added);
    state.markers = keep;
  }

  function drawHeat(rows) {
    heat.setLatLngs(rows.map(function (row) { return [row[LAT], row[LON], 1]; }));
  }

  function draw() {
    if (state.heat) drawHeat(state.rows); else drawClusters(state.rows);
    updateCount();
  }

  /** How many of the fetched cases lie in the view (the fetch covers a margin around it). */
  function updateCount() {
    var bounds = map.getBounds();
    var n = 0;
    state.rows.forEach(function (row) { if (bounds.contains([row[LAT], row[LON]])) n += 1; });
    $("gc-cmap-count").textContent = C.fmt(S.shown, { n: n.toLocaleString(LOCALE) });
    if (state.truncated) showStatus(C.fmt(S.truncated, { n: state.rows.length.toLocaleString(LOCALE) }), "");
    else if (state.heat) showStatus(S.heatOn, "");
    else if ($("gc-cmap-status").dataset.kind !== "error") showStatus("");
  }

  function bboxParam() {
    var b = map.getBounds().pad(BBOX_PAD);
    return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180),
      Math.min(b.getNorth(), 90)].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function fetchPoints() {
    state.waiting = false;
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    var params = Object.assign({ bbox: bboxParam() }, state.filters);
    C.getJSON("/cases/points", params, controller.signal).then(function (body) {
      state.rows = body.points || [];
      state.truncated = !!body.truncated;
      state.loaded = true;
      if ($("gc-cmap-status").dataset.kind === "error") showStatus("");
      draw();
    }).catch(function (err) {
      if (C.isAbort(err)) return;
      showStatus(C.fmt(S.loadFailed, { reason: C.reasonOf(err) }), "error");
    }).finally(function () {
      if (state.controller === controller) state.controller = null;
    });
  }

  var fetchSoon = C.debounce(fetchPoints, FETCH_DELAY_MS);
  map.on("moveend", function () { state.waiting = true; updateCount(); fetchSoon(); });

  // ------------------------------------------------------------------ popup

  function popupContent(row) {
    var link = el("a", "gc-link gc-cmap-open", S.openDetail);
    link.href = C.pageUrl("/cases/" + row[ID]);
    var title = el("a", "gc-cmap-pop-title", C.fmt(S.caseNo, { id: row[ID] }));
    title.href = link.href;
    var category = el("span", "gc-cmap-pop-category");
    var description = el("p", "gc-cmap-pop-text gc-muted", S.loading);
    var node = el("div", "gc-cmap-pop", [
      el("div", "gc-cmap-pop-head", [title, " ", C.stateBadge(row[STATE]), " ",
        row[OVERDUE] ? C.dueBadge("overdue") : null]),
      category, description, link,
    ]);
    node.dataset.caseId = String(row[ID]);
    C.getJSON("/cases/" + row[ID], {}).then(function (found) {
      category.textContent = found.category_name || found.category || "";
      description.textContent = found.description || S.none;
    }).catch(function (err) {
      description.textContent = C.fmt(S.loadFailed, { reason: C.reasonOf(err) });
    });
    return node;
  }

  // ------------------------------------------------------------------ heatmap toggle

  $("gc-cmap-heat").addEventListener("click", function () {
    state.heat = !state.heat;
    this.setAttribute("aria-pressed", String(state.heat));
    map.closePopup();
    if (state.heat) {
      map.removeLayer(clusters);
      heat.addTo(map);
    } else {
      map.removeLayer(heat);
      clusters.addTo(map);
    }
    draw();
  });

  // ------------------------------------------------------------------ filters

  C.ORDER.states.forEach(function (code) {
    var input = el("input");
    input.type = "checkbox";
    input.name = "state";
    input.value = code;
    var dot = el("span", "gc-cmap-swatch gc-cmap-swatch-" + code);
    dot.setAttribute("aria-hidden", "true");
    $("gc-state-boxes").append(el("label", "gc-check gc-chip", [input, dot, S.states[code]]));
  });

  function filtersFromForm() {
    var data = new FormData(form);
    var out = {};
    var states = data.getAll("state");
    if (states.length) out.state = states.join(",");
    ["category", "from", "to"].forEach(function (key) {
      var value = String(data.get(key) || "").trim();
      if (value) out[key] = value;
    });
    // Until the categories arrive the select cannot hold the one asked for in the URL.
    if (!categoriesLoaded && state.filters.category) out.category = state.filters.category;
    if (data.get("overdue")) out.overdue = "1";
    var area = areaPicker.value();
    if (area) out[area.level] = area.code;
    var department = departmentPicker.value();
    if (department) out.department = department.code;
    return out;
  }

  /** The messages of filters that are not valid yet (a typed name not picked from its list). */
  function problems() {
    return [areaPicker.problem(), departmentPicker.problem()].filter(Boolean);
  }

  /** Fill the form (and the filters the form has no field for) from the page's URL. */
  function formFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var states = (params.get("state") || "").split(",");
    form.querySelectorAll("input[name=state]").forEach(function (box) { box.checked = states.indexOf(box.value) >= 0; });
    ["from", "to"].forEach(function (key) { if (params.get(key)) form.elements[key].value = params.get(key); });
    form.elements.overdue.checked = params.get("overdue") === "1";
    if (params.get("category")) state.filters.category = params.get("category");
    // The pickers show names; the URL keeps codes.
    var area = C.AREA_LEVELS.slice().reverse().map(function (k) { return params.get(k); }).find(Boolean);
    return Promise.all([areaPicker.set(area || null), departmentPicker.set(params.get("department") || null)])
      .catch(function () { return null; });
  }

  function apply() {
    var wrong = problems();
    $("gc-cmap-error").textContent = wrong.join(" ");
    $("gc-cmap-error").hidden = !wrong.length;
    if (wrong.length) return;
    state.filters = filtersFromForm();
    var query = new URLSearchParams(state.filters).toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    $("gc-cmap-board").href = C.pageUrl("/cases") + (query ? "?" + query : "");
    fetchPoints();
  }

  // The pickers filter when a unit is picked (or the input emptied), not on every keystroke.
  form.addEventListener("change", function (e) { if (!e.target.closest(".gm-picker")) apply(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("reset", function () {
    areaPicker.clear();
    departmentPicker.clear();
    setTimeout(apply, 0);
  });

  var categoriesLoaded = false;
  C.getJSON("/case-categories", {}).then(function (categories) {
    var select = $("gc-f-category");
    categories.forEach(function (c) {
      var option = el("option", null, c.name);
      option.value = c.code;
      select.append(option);
    });
    categoriesLoaded = true;
    if (state.filters.category) select.value = state.filters.category;
  }).catch(function () { /* the category filter still works from the URL */ });

  Promise.all([formFromUrl(), C.fitExtent(map).catch(function (err) { handle.onError(C.reasonOf(err)); })])
    .finally(apply);

  window.gridmap = {
    map: map, state: state, clusters: clusters, heat: heat,
    isIdle: function () { return state.loaded && !state.waiting && !state.controller && handle.isIdle(); },
  };
})();
