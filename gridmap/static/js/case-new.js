/*
 * gridmap — intake page (上报案件): place the case, fill the form, submit. The reporter is the
 * signed-in person; a grid worker's map opens on their own grids.
 *
 * The server decides everything that matters (grid, owner, deadlines, duplicates); this page
 * collects input, checks what it can before sending, and answers the server's questions
 * ("which grid?", "is this a duplicate?") by resubmitting the same form with the same token.
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  if (!C.requireAccount()) return;
  var S = C.S;
  var el = C.el;
  var fmt = C.fmt;

  var MAX_PHOTOS = C.LIMITS.maxPhotos;             // the server's limits (page config)
  var MAX_PHOTO_BYTES = C.LIMITS.maxPhotoBytes;
  var MAX_DESCRIPTION = C.LIMITS.maxDescription;
  var CLICK_DELAY_MS = 260;          // wait for a possible double-click (zoom) before placing
  var PLACE_ZOOM = 17;
  var MAX_HOME_GRIDS = 6;            // a worker with more grids than this starts on the whole extent
  var STREET_LABEL_ZOOM = 16;        // street names with the buildings, once streets are legible

  var $ = function (id) { return document.getElementById(id); };
  var form = $("gc-case-form");
  var categorySelect = $("gc-category");
  var description = $("gc-description");
  var submitButton = $("gc-submit");
  var placeResult = $("gc-place-result");
  var mapStatus = $("gc-map-status");

  var state = {
    point: null,          // {lon, lat, crs} as the user gave it; sent as is
    located: null,        // the /api/locate answer for that point
    photos: [],           // [{file, url}]
    extra: {},            // answers to the server's questions: grid_code, confirm_new, link_to
    categories: [],
    clientToken: newToken(),   // one per form load: a double submit makes one case
    sending: false,
  };

  function newToken() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // randomUUID needs a secure context; getRandomValues does not.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function showMapStatus(text, kind) {
    mapStatus.textContent = text || "";
    mapStatus.dataset.kind = kind || "";
    mapStatus.hidden = !text;
  }

  function showError(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  /**
   * The server's problems, each under the field it concerns (``error.fields``: name -> message,
   * the message naming the field by its label), in the page's language; the first such field gets
   * the focus. Returns whether any was placed.
   */
  function showFieldErrors(fields) {
    Array.prototype.forEach.call(form.querySelectorAll(".gc-field-error"), function (p) { p.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (c) {
      c.removeAttribute("aria-invalid");
    });
    var first = null;
    Object.keys(fields || {}).forEach(function (name) {
      var control = form.elements[name];
      if (!control || !control.closest) return;
      var note = el("p", "gc-error gc-field-error", C.oneLanguage(fields[name]));
      note.id = "gc-error-" + name;
      control.closest(".gc-field").append(note);
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", note.id);
      first = first || control;
    });
    if (first) first.focus();
    return Boolean(first);
  }

  // ---------------------------------------------------------------- placing the case

  if (!window.L) {
    showMapStatus(S.leafletMissing, "error");
    return;
  }
  var basemap = C.createMap("gc-map", { zoomControl: true });
  var map = basemap.map;
  basemap.onZoomHint = function (below) {
    if (mapStatus.dataset.kind !== "error") showMapStatus(below ? S.zoomIn : "", "hint");
  };
  basemap.onError = function (reason) { showMapStatus(reason, "error"); };
  var marker = null;
  var locateController = null;
  var reference = setupReferenceLayers();

  function setMarker(lat, lon) {
    if (!marker) {
      marker = L.circleMarker([lat, lon], { radius: 11, weight: 3, color: "#ffffff", fillColor: "#d9480f",
        fillOpacity: 1, interactive: false }).addTo(map);
    } else {
      marker.setLatLng([lat, lon]);
    }
  }

  function kv(label, value) {
    return [el("dt", null, label), el("dd", null, value || S.none)];
  }

  function renderPlace(data) {
    var worker = data.grid_worker;
    var building = data.building;
    placeResult.replaceChildren(el("div", "gc-place-card", [
      el("div", "gc-place-head", [
        el("span", "gc-kicker", S.grid),
        el("strong", "gc-grid-name", data.grid.name),
        el("code", "gc-code", data.grid.code),
      ]),
      el("dl", "gc-kv", [].concat(
        kv(S.community, data.community && data.community.name),
        kv(S.subdistrict, data.subdistrict && data.subdistrict.name),
        kv(S.gridWorker, worker && worker.name),
        kv(S.nearestBuilding, building && building.name))),
    ]));
  }

  /** Put the case at (lon, lat) in `crs` and ask the server where that is. */
  function placeAt(lon, lat, crs, options) {
    state.point = { lon: lon, lat: lat, crs: crs };
    state.located = null;
    state.extra = {};                // a new place asks its own questions
    clearChoice();
    if (crs === "wgs84") setMarker(lat, lon);
    if (locateController) locateController.abort();
    var controller = new AbortController();
    locateController = controller;
    placeResult.replaceChildren(el("p", "gc-hint", S.locating));
    return C.getJSON("/locate", { lon: lon.toFixed(7), lat: lat.toFixed(7), crs: crs }, controller.signal)
      .then(function (data) {
        if (controller !== locateController) return;
        state.located = data;
        var wgs = data.query && data.query.wgs84;
        if (wgs) setMarker(wgs[1], wgs[0]);
        if (wgs && options && options.pan) map.setView([wgs[1], wgs[0]], Math.max(map.getZoom(), PLACE_ZOOM));
        renderPlace(data);
        fillAddress(data);
        updateCategoryHint();
        askWhichGrid(data, wgs ? L.latLng(wgs[1], wgs[0]) : L.latLng(lat, lon), controller);
      })
      .catch(function (err) {
        if (C.isAbort(err) || controller !== locateController) return;
        placeResult.replaceChildren(el("p", "gc-error", fmt(S.locateFailed, { reason: C.reasonOf(err) })));
      });
  }

  var autoAddress = "";
  function fillAddress(data) {
    var input = $("gc-address");
    var suggestion = data.building ? [data.building.address, data.building.name].filter(Boolean).join(" ") : "";
    if (!input.value || input.value === autoAddress) {
      input.value = suggestion;
      autoAddress = suggestion;
    }
  }

  var clickTimer = null;
  map.on("click", function (e) {
    clearTimeout(clickTimer);
    clickTimer = setTimeout(function () {
      var p = map.wrapLatLng(e.latlng);
      placeAt(p.lng, p.lat, "wgs84");
    }, CLICK_DELAY_MS);
  });
  map.on("dblclick", function () { clearTimeout(clickTimer); });

  $("gc-geolocate").addEventListener("click", function () {
    if (!navigator.geolocation) { showMapStatus(S.geoUnsupported, "error"); return; }
    showMapStatus(S.geolocating, "loading");
    navigator.geolocation.getCurrentPosition(function (position) {
      showMapStatus("", "");
      placeAt(position.coords.longitude, position.coords.latitude, "wgs84", { pan: true });
    }, function () {
      showMapStatus(S.geoDenied, "error");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });

  setupBuildingSearch();

  $("gc-coord-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var lon = Number($("gc-coord-lon").value.trim());
    var lat = Number($("gc-coord-lat").value.trim());
    if (!isFinite(lon) || !isFinite(lat) || $("gc-coord-lon").value.trim() === "" || $("gc-coord-lat").value.trim() === "") {
      placeResult.replaceChildren(el("p", "gc-error", S.badCoords));
      return;
    }
    placeAt(lon, lat, $("gc-coord-crs").value, { pan: true });
  });

  function setupBuildingSearch() {
    var searchForm = $("gc-building-search");
    var input = $("gc-building-q");
    var list = $("gc-building-results");
    var controller = null;
    var found = null;               // the chosen street's or area's shape, until the next search

    function message(text) {
      list.replaceChildren(el("li", "gc-results-message", text));
      list.hidden = false;
    }

    function run() {
      var q = input.value.trim();
      if (controller) controller.abort();
      if (!q) { list.hidden = true; return; }
      var current = new AbortController();
      controller = current;
      message(S.searching);
      C.getJSON("/search", { q: q, limit: 20 }, current.signal).then(function (body) {
        var results = body.results || [];
        if (!results.length) { message(fmt(S.searchEmpty, { q: q })); return; }
        list.replaceChildren.apply(list, results.map(function (r) {
          var button = el("button", "gc-result", [
            el("span", "gc-result-kind", S.kinds[r.kind] || r.kind),
            el("strong", null, r.name), el("small", null, r.context)]);
          button.type = "button";
          button.addEventListener("click", function () {
            list.hidden = true;
            input.value = r.name;
            input.blur();
            choose(r);
          });
          return el("li", null, button);
        }));
        list.hidden = false;
      }).catch(function (err) {
        if (!C.isAbort(err)) message(fmt(S.searchFailed, { reason: C.reasonOf(err) }));
      });
    }

    /**
     * A building or facility places the case (the centre of its bbox: inside the usual compact
     * shapes); a street or area shows its real shape on the map for the next tap.
     */
    function choose(r) {
      clearFound();
      if (r.kind === "building" || r.kind === "facility") {
        placeAt((r.bbox[0] + r.bbox[2]) / 2, (r.bbox[1] + r.bbox[3]) / 2, "wgs84", { pan: true });
        return;
      }
      map.fitBounds([[r.bbox[1], r.bbox[0]], [r.bbox[3], r.bbox[2]]], { padding: [16, 16], maxZoom: PLACE_ZOOM });
      if (r.geometry) {
        found = L.geoJSON(r.geometry, { pane: "gc-choice", interactive: false, style: function () {
          return { className: "gc-found", color: "#ff7a00", weight: r.kind === "street" ? 6 : 3, opacity: 0.9, fill: false };
        } }).addTo(map);
        found.eachLayer(function (layer) { layer.getElement().dataset.kind = r.kind; });
      }
      if (!state.point) placeResult.replaceChildren(el("p", "gc-hint", fmt(S.tapInArea, { name: r.name })));
    }

    function clearFound() {
      if (found) map.removeLayer(found);
      found = null;
    }

    input.addEventListener("input", function () { if (!input.value.trim()) clearFound(); });
    input.addEventListener("input", C.debounce(run, 250));
    searchForm.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    document.addEventListener("pointerdown", function (e) {
      if (!searchForm.contains(e.target)) list.hidden = true;
    });
  }

  // ---------------------------------------------------------------- what the map shows

  /**
   * Outlines and names of the districts, communities and grids from the first view (a worker
   * must see where they are before tapping), buildings and street names once zoomed in. Areas
   * and buildings come from /api/layers for the view; street names label the streets the basemap
   * (case-common) already loads.
   */
  function setupReferenceLayers() {
    map.createPane("gc-buildings").style.zIndex = "360";
    map.createPane("gc-areas").style.zIndex = "410";
    map.createPane("gc-choice").style.zIndex = "420";
    map.createPane("gc-labels").style.zIndex = "640";
    map.getPane("gc-labels").style.pointerEvents = "none";
    var renderer = L.svg({ pane: "gc-areas", padding: 0.2 }).addTo(map);
    var buildingRenderer = L.svg({ pane: "gc-buildings", padding: 0.2 }).addTo(map);
    var defs = [
      { name: "districts", minzoom: 0, labelzoom: 0, style: { color: "#1d2b4f", weight: 2.5, opacity: 0.9, fill: false } },
      { name: "communities", minzoom: 12, labelzoom: 13, style: { color: "#7a3e9d", weight: 2, opacity: 0.85, dashArray: "6 4", fill: false } },
      { name: "grids", minzoom: 14, labelzoom: 16, style: { color: "#2f6fb5", weight: 1.2, opacity: 0.9, fill: false } },
      { name: "buildings", minzoom: 16, labelzoom: 99, renderer: buildingRenderer, pane: "gc-buildings",
        style: { color: "#8f877a", weight: 1, opacity: 0.9, fillColor: "#c9c1b3", fillOpacity: 0.8 } },
    ];
    var labels = L.layerGroup().addTo(map);
    var streetLabels = L.layerGroup().addTo(map);
    var shown = {};
    var controllers = {};

    function label(latlng, text, kind) {
      return L.marker(latlng, { pane: "gc-labels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "gc-area-label gc-area-label-" + kind, html: "", iconSize: null }) })
        .on("add", function (e) {
          var node = document.createElement("span");
          node.textContent = text;
          e.target.getElement().append(node);
        });
    }

    function load(def) {
      if (controllers[def.name]) controllers[def.name].abort();
      if (map.getZoom() < def.minzoom) {
        if (shown[def.name]) { map.removeLayer(shown[def.name]); shown[def.name] = null; }
        return Promise.resolve();
      }
      var controller = new AbortController();
      controllers[def.name] = controller;
      var b = map.getBounds().pad(0.1);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
      return C.getJSON("/layers/" + def.name + ".geojson", { bbox: bbox, zoom: map.getZoom() }, controller.signal)
        .then(function (collection) {
          var layer = L.geoJSON(collection, { pane: def.pane || "gc-areas", renderer: def.renderer || renderer,
            interactive: false, style: function () { return def.style; } });
          if (shown[def.name]) map.removeLayer(shown[def.name]);
          shown[def.name] = layer.addTo(map);
          layer.eachLayer(function (f) { var e = f.getElement && f.getElement(); if (e) e.classList.add("gc-ref-" + def.name); });
          def.features = collection.features || [];
        })
        .catch(function (err) { if (!C.isAbort(err)) showMapStatus(C.reasonOf(err), "error"); });
    }

    var placed = [];                // label boxes in pixels: a name that would overlap one is left out
    var streets = null;             // the basemap's last street collection, named once areas are

    /** Reserve the pixel box of a label centred at `p`; false when it overlaps one already placed. */
    function reserve(p, text) {
      var box = { x: p.x, y: p.y, hx: text.length * 7 + 4, hy: 10 };   // about 13 px a character
      var clash = placed.some(function (q) { return Math.abs(q.x - box.x) < box.hx + q.hx && Math.abs(q.y - box.y) < box.hy + q.hy; });
      if (!clash) placed.push(box);
      return !clash;
    }

    /** The map's own controls (zoom buttons, attribution) as boxes no name may cover. */
    function controlBoxes() {
      var m = map.getContainer().getBoundingClientRect();
      return Array.prototype.map.call(map.getContainer().querySelectorAll(".leaflet-control"), function (c) {
        var r = c.getBoundingClientRect();
        return { x: r.left - m.left + r.width / 2, y: r.top - m.top + r.height / 2, hx: r.width / 2, hy: r.height / 2 };
      });
    }

    function relabel() {
      labels.clearLayers();
      placed = controlBoxes();
      var zoom = map.getZoom();
      var view = map.getBounds();
      var size = map.getSize();
      // Only the finest level's names once zoomed in, so names do not sit on each other.
      var finest = defs.filter(function (d) { return d.labelzoom <= zoom && d.features; }).pop();
      if (finest && shown[finest.name]) {
        shown[finest.name].eachLayer(function (f) {
          var centre = f.getBounds().getCenter();
          var name = f.feature.properties.name || "";
          if (!view.contains(centre) || !name) return;
          // A name near the edge moves inside the map rather than being cut off by it.
          var p = map.latLngToContainerPoint(centre);
          var half = name.length * 7 + 4;
          p.x = Math.min(Math.max(p.x, half), Math.max(half, size.x - half));
          if (reserve(p, name)) labels.addLayer(label(map.containerPointToLatLng(p), name, finest.name));
        });
      }
      labelStreets();
    }

    var refresh = C.debounce(function () {
      Promise.all(defs.map(load)).then(relabel);
    }, 200);
    map.on("moveend", refresh);
    refresh();

    basemap.onData = function (name, collection) {
      if (name !== "streets") return;
      streets = collection;
      labelStreets();
    };

    /** Street names once zoomed in, each on its longest piece, never over an area name or each other. */
    function labelStreets() {
      streetLabels.clearLayers();
      placed = placed.filter(function (box) { return !box.street; });
      if (!streets || map.getZoom() < STREET_LABEL_ZOOM) return;
      var view = map.getBounds();
      var spots = {};               // per name, the middles of its segments in view, longest piece first
      (streets.features || []).forEach(function (f) {
        var name = f.properties && f.properties.name;
        var c = f.geometry && f.geometry.type === "LineString" ? f.geometry.coordinates : null;
        if (!name || !c || c.length < 2) return;
        var length = Number(f.properties.length_m) || 0;
        for (var i = 0; i + 1 < c.length; i += 1) {
          var mid = L.latLng((c[i][1] + c[i + 1][1]) / 2, (c[i][0] + c[i + 1][0]) / 2);
          if (view.contains(mid)) (spots[name] = spots[name] || []).push({ length: length, mid: mid, a: c[i], b: c[i + 1] });
        }
      });
      Object.keys(spots).forEach(function (name) {
        // The first spot whose label box overlaps no area name and no other street name.
        var before = placed.length;
        var piece = spots[name].sort(function (p, q) { return q.length - p.length; }).find(function (spot) {
          return reserve(map.latLngToContainerPoint(spot.mid), name);
        });
        if (!piece) return;
        placed[before].street = true;
        var a = map.latLngToLayerPoint([piece.a[1], piece.a[0]]);
        var b = map.latLngToLayerPoint([piece.b[1], piece.b[0]]);
        var angle = Math.atan2(b.y - a.y, b.x - a.x) * 180 / Math.PI;
        if (angle > 90) angle -= 180;
        if (angle < -90) angle += 180;
        var mid = piece.mid;
        var marker = L.marker(mid, { pane: "gc-labels", interactive: false, keyboard: false,
          icon: L.divIcon({ className: "gc-street-label", html: "", iconSize: null }) });
        marker.on("add", function (e) {
          var node = document.createElement("span");
          node.textContent = name;
          node.style.transform = "translate(-50%, -50%) rotate(" + angle.toFixed(1) + "deg)";
          e.target.getElement().append(node);
        });
        streetLabels.addLayer(marker);
      });
    }
    return { defs: defs, shown: shown };
  }

  // ---------------------------------------------------------------- which grid? (on the map)

  var NEAR_M = 19;                  // the server asks within 20 m of another grid (BOUNDARY_M)
  var choiceLayer = null;

  /** Whether the signed-in person may report in grid `code` (the server checks again). */
  function mayReportIn(code) {
    var me = C.me || {};
    if (me.role === "grid_worker") return (me.grids || []).indexOf(code) >= 0;
    return !me.areaCode || code.indexOf(me.areaCode) === 0;
  }

  function distanceToRing(point, ring) {
    var p = map.project(point, 20);
    var best = Infinity;
    for (var i = 0; i + 1 < ring.length; i += 1) {
      var a = map.project([ring[i][1], ring[i][0]], 20);
      var b = map.project([ring[i + 1][1], ring[i + 1][0]], 20);
      var q = L.LineUtil.closestPointOnSegment(p, a, b);
      best = Math.min(best, map.distance(point, map.unproject(q, 20)));
    }
    return best;
  }

  function distanceTo(point, geometry) {
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return Math.min.apply(null, polygons.map(function (rings) {
      return Math.min.apply(null, rings.map(function (ring) { return distanceToRing(point, ring); }));
    }));
  }

  function clearChoice() {
    if (choiceLayer) map.removeLayer(choiceLayer);
    choiceLayer = null;
  }

  /**
   * Right after the tap: when the point lies within 20 m of another grid the reporter works in
   * (the server's rule), the candidate grids are highlighted on the map and one is picked by
   * tapping it (or its button below the map); the answer goes with the form as grid_code.
   */
  function askWhichGrid(data, point, controller) {
    clearChoice();
    var dLat = 25 / 111320;
    var dLon = dLat / Math.cos(point.lat * Math.PI / 180);
    var bbox = [point.lng - dLon, point.lat - dLat, point.lng + dLon, point.lat + dLat]
      .map(function (v) { return v.toFixed(7); }).join(",");
    C.getJSON("/layers/grids.geojson", { bbox: bbox, zoom: 19 }, controller.signal).then(function (collection) {
      if (controller !== locateController) return;
      var here = data.grid.code;
      var near = (collection.features || []).filter(function (f) {
        return f.properties.code === here || distanceTo(point, f.geometry) <= NEAR_M;
      });
      var mine = near.filter(function (f) { return mayReportIn(f.properties.code); });
      var coveringMine = mine.some(function (f) { return f.properties.code === here; });
      if (!mine.length || (mine.length === 1 && (coveringMine || near.length === 1))) return;
      showChoice(mine, here);
    }).catch(function (err) { if (!C.isAbort(err)) showMapStatus(C.reasonOf(err), "error"); });
  }

  function showChoice(features, here) {
    var buttons = {};
    function pick(code) {
      state.extra.grid_code = code;
      Object.keys(buttons).forEach(function (c) { buttons[c].setAttribute("aria-pressed", String(c === code)); });
      choiceLayer.eachLayer(function (layer) {
        layer.setStyle({ fillOpacity: layer.feature.properties.code === code ? 0.45 : 0.12 });
      });
    }
    choiceLayer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pane: "gc-choice",
      style: { color: "#d9480f", weight: 3, fillColor: "#f08c00", fillOpacity: 0.12 },
      onEachFeature: function (f, layer) {
        layer.on("click", function (e) { L.DomEvent.stop(e); clearTimeout(clickTimer); pick(f.properties.code); });
      },
    }).addTo(map);
    choiceLayer.eachLayer(function (layer) { layer.getElement().classList.add("gc-grid-candidate"); });
    map.fitBounds(choiceLayer.getBounds(), { padding: [16, 16], maxZoom: 19 });
    var list = el("div", "gc-grid-pick", [el("p", "gc-grid-pick-title", S.whichGrid)].concat(features.map(function (f) {
      var button = el("button", "gc-button gc-grid-pick-button", [
        el("strong", null, f.properties.name), el("code", "gc-code", f.properties.code),
        el("small", null, f.properties.code === here ? S.covers : "")]);
      button.type = "button";
      button.dataset.code = f.properties.code;
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () { pick(f.properties.code); });
      buttons[f.properties.code] = button;
      return button;
    })));
    placeResult.append(list);
    pick(here && features.some(function (f) { return f.properties.code === here; }) && mayReportIn(here) ? here : features[0].properties.code);
  }

  // ---------------------------------------------------------------- the form

  var departmentNames = function () {
    var names = {};
    ((state.located && state.located.departments) || []).forEach(function (d) { names[d.code] = d.name; });
    return names;
  };

  function updateCategoryHint() {
    var category = state.categories.find(function (c) { return c.code === categorySelect.value; });
    var hint = $("gc-category-hint");
    if (!category) { hint.textContent = ""; return; }
    var names = departmentNames();
    hint.textContent = fmt(S.categoryHint, {
      departments: category.default_departments.map(function (code) { return names[code] || code; })
        .join(S.listSeparator) || S.none,
      respond: category.respond_hours, resolve: category.resolve_hours,
    });
  }

  C.getJSON("/case-categories", {}).then(function (categories) {
    state.categories = categories;
    categories.forEach(function (c) {
      var option = el("option", null, c.name);
      option.value = c.code;
      categorySelect.append(option);
    });
  }).catch(function (err) { showError($("gc-form-error"), C.reasonOf(err)); });
  categorySelect.addEventListener("change", updateCategoryHint);

  C.ORDER.channels.forEach(function (code) {
    var option = el("option", null, S.channels[code]);
    option.value = code;
    $("gc-channel").append(option);
  });

  function updateCounter() {
    var n = description.value.length;
    var counter = $("gc-description-count");
    counter.textContent = n + "/" + MAX_DESCRIPTION;
    counter.classList.toggle("gc-counter-full", n >= MAX_DESCRIPTION);
  }
  description.addEventListener("input", updateCounter);
  updateCounter();

  // Photos: checked here for a quick answer; the server checks again (type, size, count).
  var photoInput = $("gc-photos");
  photoInput.addEventListener("change", function () {
    var problems = [];
    Array.prototype.forEach.call(photoInput.files, function (file) {
      if (!/^image\//.test(file.type)) problems.push(fmt(S.notImage, { name: file.name }));
      else if (file.size > MAX_PHOTO_BYTES) problems.push(fmt(S.tooLarge, { name: file.name }));
      else if (state.photos.length >= MAX_PHOTOS) {
        if (problems.indexOf(S.tooManyPhotos) < 0) problems.push(S.tooManyPhotos);
      } else state.photos.push({ file: file, url: URL.createObjectURL(file) });
    });
    photoInput.value = "";            // so the same file can be picked again after removing it
    showError($("gc-photo-error"), problems.join(" "));
    renderPhotos();
  });

  function renderPhotos() {
    $("gc-photo-previews").replaceChildren.apply($("gc-photo-previews"), state.photos.map(function (photo, i) {
      var img = el("img");
      img.src = photo.url;
      img.alt = photo.file.name;
      var remove = el("button", "gc-photo-remove", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", S.removePhoto + " " + photo.file.name);
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(photo.url);
        state.photos.splice(i, 1);
        renderPhotos();
      });
      return el("li", "gc-preview", [img, remove]);
    }));
    photoInput.disabled = state.photos.length >= MAX_PHOTOS;
  }

  function validate() {
    if (!state.point || !state.located) return S.placeFirst;
    if (!categorySelect.value) return S.needCategory;
    if (!description.value.trim()) return S.needDescription;
    if (description.value.length > MAX_DESCRIPTION) return S.descriptionTooLong;
    return "";
  }

  function formData() {
    var data = new FormData();
    var fields = {
      category: categorySelect.value, description: description.value,
      channel: $("gc-channel").value, lon: String(state.point.lon), lat: String(state.point.lat),
      crs: state.point.crs, address: $("gc-address").value.trim(),
      reporter_name: $("gc-reporter-name").value.trim(), reporter_phone: $("gc-reporter-phone").value.trim(),
      client_token: state.clientToken,
    };
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    Object.keys(state.extra).forEach(function (key) { data.append(key, state.extra[key]); });
    state.photos.forEach(function (photo) { data.append("photos", photo.file, photo.file.name); });
    return data;
  }

  function setSending(sending) {
    state.sending = sending;
    submitButton.disabled = sending;
    submitButton.textContent = sending ? S.sending : S.submit;
    submitButton.setAttribute("aria-busy", String(sending));
  }

  function submit() {
    var problem = validate();
    showError($("gc-form-error"), problem);
    showFieldErrors(null);
    if (problem || state.sending) return;
    setSending(true);
    C.request("/cases", { method: "POST", body: formData() }).then(function (result) {
      var body = result.body || {};
      if ((result.status === 201 || result.status === 200) && body.case_id) {
        window.location.assign(C.pageUrl("/cases/" + body.case_id));
        return;
      }
      setSending(false);
      if (result.status === 409 && body.status === "choose_grid") chooseGrid(body.candidates || []);
      else if (result.status === 409 && body.status === "possible_duplicates") showDuplicates(body.candidates || []);
      else if (!showFieldErrors(body.error && body.error.fields)) showError($("gc-form-error"), C.errorFrom(result).message);
    }).catch(function () {
      setSending(false);
      showError($("gc-form-error"), S.networkError);
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });

  // ---------------------------------------------------------------- the server's questions

  document.querySelectorAll("dialog [data-close]").forEach(function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });

  function answer(dialog, extra) {
    dialog.close();
    Object.assign(state.extra, extra);
    submit();
  }

  function chooseGrid(candidates) {
    var dialog = $("gc-grid-dialog");
    $("gc-grid-choices").replaceChildren.apply($("gc-grid-choices"), candidates.map(function (c) {
      var button = el("button", "gc-choice", [
        el("strong", null, fmt(S.candidateGrid, { name: c.name, community: c.community_name })),
        el("code", "gc-code", c.code),
        el("small", null, c.covers ? S.covers : fmt(S.distance, { n: Math.round(c.distance_m || 0) })),
      ]);
      button.type = "button";
      button.addEventListener("click", function () { answer(dialog, { grid_code: c.code }); });
      return el("li", null, button);
    }));
    dialog.showModal();
  }

  function showDuplicates(candidates) {
    var dialog = $("gc-dup-dialog");
    $("gc-dup-choices").replaceChildren.apply($("gc-dup-choices"), candidates.map(function (c) {
      var link = el("a", "gc-link", S.openCase);
      link.href = C.pageUrl("/cases/" + c.id);
      link.target = "_blank";
      link.rel = "noopener";
      var merge = el("button", "gc-button gc-button-primary", S.linkHere);
      merge.type = "button";
      merge.addEventListener("click", function () { answer(dialog, { link_to: String(c.id) }); });
      return el("li", "gc-dup", [
        el("div", "gc-dup-head", [el("strong", null, fmt(S.caseNo, { id: c.id })), C.stateBadge(c.state),
          el("small", "gc-muted", [C.localTime(c.created_at), " · ", fmt(S.distance, { n: Math.round(c.distance_m || 0) })])]),
        el("p", "gc-dup-text", c.description),
        el("div", "gc-dup-actions", [link, merge]),
      ]);
    }));
    dialog.showModal();
  }
  $("gc-file-anyway").addEventListener("click", function () {
    answer($("gc-dup-dialog"), { confirm_new: "1" });
  });

  // ---------------------------------------------------------------- start

  /**
   * A grid worker's map opens on their own grids (found by code through /api/search), where
   * they report; null for everyone else, whose map opens on the loaded extent.
   */
  function homeGrids() {
    var grids = (C.me && C.me.role === "grid_worker" && C.me.grids) || [];
    if (!grids.length || grids.length > MAX_HOME_GRIDS) return null;
    return Promise.all(grids.map(function (code) {
      return C.getJSON("/search", { q: code, limit: 5 }).then(function (body) {
        return (body.results || []).find(function (r) { return r.kind === "grid" && r.code === code; });
      });
    })).then(function (found) {
      var bounds = null;
      found.filter(Boolean).forEach(function (r) {
        var box = L.latLngBounds([r.bbox[1], r.bbox[0]], [r.bbox[3], r.bbox[2]]);
        bounds = bounds ? bounds.extend(box) : box;
      });
      if (!bounds) return C.fitExtent(map);
      map.fitBounds(bounds, { animate: false, padding: [12, 12], maxZoom: PLACE_ZOOM + 1 });
      return null;
    });
  }

  /** Where the map opens: the phone's position when the browser already grants it, else the
   * worker's grids, else the person's area, else the loaded extent. */
  function startView() {
    return grantedPosition().then(function (position) {
      if (position) {
        map.setView([position.coords.latitude, position.coords.longitude], PLACE_ZOOM, { animate: false });
        return null;
      }
      return homeGrids() || homeArea() || C.fitExtent(map);
    });
  }

  function grantedPosition() {
    if (!navigator.permissions || !navigator.geolocation) return Promise.resolve(null);
    return navigator.permissions.query({ name: "geolocation" }).then(function (status) {
      if (status.state !== "granted") return null;   // never prompt before the person asks
      return new Promise(function (resolve) {
        navigator.geolocation.getCurrentPosition(resolve, function () { resolve(null); },
          { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 });
      });
    }).catch(function () { return null; });
  }

  function homeArea() {
    var code = C.me && C.me.areaCode;
    if (!code) return null;
    return C.getJSON("/search", { q: code, limit: 5 }).then(function (body) {
      var hit = (body.results || []).find(function (r) { return r.code === code; });
      if (!hit) return C.fitExtent(map);
      map.fitBounds([[hit.bbox[1], hit.bbox[0]], [hit.bbox[3], hit.bbox[2]]], { animate: false, padding: [12, 12] });
      return null;
    });
  }

  // A debugging and testing handle; nothing in the page depends on it.
  window.gridmap = {
    map: map,
    state: state,
    placeAt: placeAt,
    reference: reference,
    ready: false,                  // true once the map shows the loaded extent
    isIdle: function () { return basemap.isIdle(); },
  };
  startView()
    .catch(function (err) { showMapStatus(C.reasonOf(err), "error"); })
    .finally(function () { window.gridmap.ready = true; });
})();
