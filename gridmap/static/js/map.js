/*
 * gridmap — the grid map page.
 *
 * Everything on the map comes from the server, never as one big inline GeoJSON: a city holds
 * ~10k grids and ~100k buildings. The big layers (grids, buildings, streets) are vector tiles
 * (/tiles/…, drawn on canvas by Leaflet.VectorGrid), so every building shows from zoom 14 with
 * no cap; the small ones (areas, facilities) are GeoJSON, one request per layer per view.
 * All user-visible text arrives translated in the page's JSON config (see pages/map.html);
 * the generic helpers (fmt, el, debounce, getJSON …) come from common.js.
 */
(function () {
  "use strict";

  var G = window.Gridmap;       // the helpers every page shares (common.js)
  var config = G.config;
  var S = G.strings;
  var fmt = G.fmt;
  var escapeHtml = G.escapeHtml;
  var el = G.el;
  var debounce = G.debounce;
  var isAbort = G.isAbort;
  var getJSON = G.getJSON;
  var statusEl = document.getElementById("gm-status");

  // Overlays shown when the page opens; facility types are matched by code.
  var DEFAULT_ON = ["districts", "subdistricts", "communities", "grids", "buildings", "streets",
    "facility:elder_care_station", "facility:party_service_station"];
  var REFRESH_DELAY_MS = 200;   // debounce for moveend: one request per layer per settled view
  var SEARCH_DELAY_MS = 250;
  var CLICK_DELAY_MS = 260;     // wait for a possible double-click (zoom) before locating
  var PREFETCH_PAD = 0.15;      // fetch a margin around the view so small pans need no request
  var COARSE = window.matchMedia("(pointer: coarse)").matches;
  // Layers drawn from vector tiles, and the zoom from which the map shows each (at least the
  // tileset's own minzoom): buildings from 14, where the whole city's are still legible.
  var TILE_LAYERS = { grids: 12, buildings: 14, streets: 13 };

  // Styles by layer. Boundaries are drawn without interaction so that a tap anywhere reaches
  // the map and locates the point (Leaflet does not pass a click on a shape on to the map).
  var LAYER_STYLES = {
    districts: { pane: "gm-districts", style: { color: "#1b1f3b", weight: 3.5, opacity: 0.9, fill: false } },
    subdistricts: { pane: "gm-subdistricts", style: { color: "#3d405b", weight: 2, opacity: 0.9, dashArray: "8 6", fill: false } },
    communities: { pane: "gm-communities", style: { color: "#6d597a", weight: 1.6, opacity: 0.85, fill: false } },
    grids: { pane: "gm-grids", style: { color: "#2f6fb5", weight: 0.9, opacity: 0.75, fillColor: "#4f8fd6", fillOpacity: 0.07 } },
    buildings: { pane: "gm-buildings", style: { color: "#6f6f6f", weight: 0.6, opacity: 0.9, fillColor: "#a3a3a3", fillOpacity: 0.75 } },
    streets: {
      pane: "gm-streets",
      style: function (feature) {
        return feature.properties && feature.properties.kind === "arterial"
          ? { color: "#c6c0b4", weight: 4.5, opacity: 1, lineCap: "round" }
          : { color: "#d9d4ca", weight: 1.6, opacity: 1, lineCap: "round" };
      },
    },
  };
  // Bottom to top; facility markers above every shape, below Leaflet's popups (700).
  var PANES = [["gm-streets", 350], ["gm-grids", 400], ["gm-buildings", 410],
    ["gm-communities", 420], ["gm-subdistricts", 430], ["gm-districts", 440],
    ["gm-highlight", 450], ["gm-facilities", 460]];

  // ---------------------------------------------------------------- small helpers

  function reasonOf(err) { return G.reasonOf(err, S.networkError); }

  function bboxParam(bounds) {
    // Clamp: zoomed far out, Leaflet's bounds run past the antimeridian and the poles.
    var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)).toFixed(6); };
    return [clamp(bounds.getWest(), -180, 180), clamp(bounds.getSouth(), -90, 90),
      clamp(bounds.getEast(), -180, 180), clamp(bounds.getNorth(), -90, 90)].join(",");
  }

  function boundsFromBbox(bbox) {
    return L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]);
  }

  // ---------------------------------------------------------------- status line

  /** One line at the bottom of the map: errors beat "loading…", which beats zoom hints. */
  var status = {
    loading: new Set(),
    errors: new Map(),
    hint: "",
    start: function (key) { this.loading.add(key); this.render(); },
    done: function (key) { this.loading.delete(key); this.render(); },
    fail: function (key, message) { this.errors.set(key, message); this.render(); },
    clear: function (key) { if (this.errors.delete(key)) this.render(); },
    setHint: function (text) { if (text !== this.hint) { this.hint = text; this.render(); } },
    render: function () {
      var text = "";
      var kind = "";
      if (this.errors.size) {
        text = Array.from(this.errors.values()).join(" · ");
        kind = "error";
      } else if (this.loading.size) {
        text = S.loading;
        kind = "loading";
      } else if (this.hint) {
        text = this.hint;
        kind = "hint";
      }
      statusEl.textContent = text;
      statusEl.dataset.kind = kind;
      statusEl.hidden = !text;
    },
  };

  if (!window.L) {
    // leaflet.js did not load: almost always because `npm ci` was never run.
    status.fail("leaflet", S.leafletMissing);
    return;
  }

  // ---------------------------------------------------------------- layers from vector tiles

  /**
   * A vector-tile overlay with the RemoteLayer interface the page uses (def, group, refresh,
   * reset, controller while tiles load). Features are not interactive: a click reaches the map
   * and locates the point, as with the GeoJSON layers.
   */
  /**
   * Vector tiles drawn 512 pixels wide from the zoom above's data (as MapLibre does): a view
   * needs a quarter of the requests, and a tile simplified to half a pixel at 256 stays within
   * one at 512.
   */
  var BigTiles = L.VectorGrid && L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      var data = L.point(coords.x, coords.y);
      data.z = coords.z - 1;
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, data);
    },
  });

  function TileOverlay(map, def, tilejson, style) {
    var self = this;
    this.map = map;
    this.def = def;
    this.controller = null;
    this.drawn = new Set();         // codes of the features drawn at the current zoom
    var styleOf = typeof style.style === "function" ? style.style : function () { return style.style; };
    var polygon = def.name !== "streets";
    this.group = new BigTiles(tilejson.tiles[0], {
      pane: style.pane,
      rendererFactory: L.canvas.tile,
      interactive: false,
      tileSize: 512,
      minZoom: def.minzoom,
      minNativeZoom: tilejson.minzoom + 1,
      maxNativeZoom: tilejson.maxzoom + 1,   // deeper zooms scale the deepest tiles
      maxZoom: 19,
      fetchOptions: { credentials: "same-origin" },
      vectorTileLayerStyles: (function () {
        var styles = {};
        styles[def.name] = function (properties, zoom) {
          if (properties.code !== undefined) self.drawn.add(properties.code);
          var s = styleOf({ properties: properties }, zoom);
          return polygon ? Object.assign({ fill: s.fill !== false }, s) : s;
        };
        return styles;
      })(),
    });
    this.group.on("loading", function () {
      if (!self.controller) { self.controller = true; status.start(def.key); }
    });
    this.group.on("load", function () {
      if (self.controller) { self.controller = null; status.done(def.key); }
    });
    this.group.on("add", this.refresh, this);
    this.group.on("remove", this.reset, this);
    map.on("zoomstart", function () { self.drawn.clear(); });
  }

  TileOverlay.prototype.isActive = function () { return this.map.hasLayer(this.group); };
  TileOverlay.prototype.isBelowMinzoom = function () { return this.map.getZoom() < this.def.minzoom; };

  TileOverlay.prototype.reset = function () {
    if (this.controller) { this.controller = null; status.done(this.def.key); }
    layerFlags.set(this.def.key, { below: false, truncated: false });
  };

  TileOverlay.prototype.refresh = function () {
    if (!this.isActive()) return;
    var below = this.isBelowMinzoom();
    if (below && this.controller) { this.controller = null; status.done(this.def.key); }
    layerFlags.set(this.def.key, { below: below, truncated: false });
  };

  /** TileJSON of the tiled layers; a layer whose TileJSON fails falls back to GeoJSON. */
  function loadTileJSON() {
    if (!L.vectorGrid) return Promise.resolve({});
    var names = Object.keys(TILE_LAYERS);
    return Promise.all(names.map(function (name) {
      return fetch(G.pageUrl("/tiles/" + name + ".json"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    })).then(function (docs) {
      var out = {};
      names.forEach(function (name, i) { if (docs[i]) out[name] = docs[i]; });
      return out;
    });
  }

  // ---------------------------------------------------------------- layers fed by the API

  /**
   * An overlay that (re)loads its features for the current view whenever the map settles,
   * at or above its minimum zoom; below it the overlay empties itself and shows a hint.
   */
  function RemoteLayer(map, def, geojsonOptions) {
    this.map = map;
    this.def = def;                 // {key, name, title, minzoom, query}
    this.group = L.geoJSON(null, geojsonOptions);
    this.controller = null;         // AbortController of the request in flight
    this.loaded = null;             // {bounds, zoom, truncated} of what is drawn
    this.group.on("add", this.refresh, this);
    this.group.on("remove", this.reset, this);
  }

  RemoteLayer.prototype.isActive = function () {
    return this.map.hasLayer(this.group);
  };

  RemoteLayer.prototype.abort = function () {
    if (!this.controller) return;
    this.controller.abort();
    this.controller = null;
    status.done(this.def.key);
  };

  RemoteLayer.prototype.reset = function () {
    this.abort();
    this.group.clearLayers();
    this.loaded = null;
    status.clear(this.def.key);
    layerFlags.set(this.def.key, { below: false, truncated: false });
  };

  RemoteLayer.prototype.isBelowMinzoom = function () {
    return this.map.getZoom() < this.def.minzoom;
  };

  RemoteLayer.prototype.refresh = function () {
    if (!this.isActive()) return;
    if (this.isBelowMinzoom()) {
      this.reset();
      layerFlags.set(this.def.key, { below: true, truncated: false });
      return;
    }
    var zoom = this.map.getZoom();
    var view = this.map.getBounds();
    var drawn = this.loaded;
    if (drawn && drawn.zoom === zoom && !drawn.truncated && drawn.bounds.contains(view)) return;
    this.load(view.pad(PREFETCH_PAD), zoom);
  };

  RemoteLayer.prototype.load = function (bounds, zoom) {
    var self = this;
    var key = this.def.key;
    this.abort();                   // a newer view makes the older answer useless
    var controller = new AbortController();
    this.controller = controller;
    status.start(key);
    var params = Object.assign({}, this.def.query, { bbox: bboxParam(bounds), zoom: zoom });
    getJSON("/layers/" + encodeURIComponent(this.def.name) + ".geojson", params, controller.signal)
      .then(function (collection) {
        if (controller !== self.controller) return;
        self.group.clearLayers();
        self.group.addData(collection);
        self.loaded = { bounds: bounds, zoom: zoom, truncated: Boolean(collection.truncated) };
        layerFlags.set(key, { below: false, truncated: self.loaded.truncated });
        status.clear(key);
      })
      .catch(function (err) {
        if (isAbort(err) || controller !== self.controller) return;
        status.fail(key, fmt(S.loadFailed, { layer: self.def.title, reason: reasonOf(err) }));
      })
      .finally(function () {
        if (controller !== self.controller) return;
        self.controller = null;
        status.done(key);
      });
  };

  /**
   * Per-layer "below minzoom" / "truncated" flags, kept as CSS custom properties on the layer
   * control's container that the hints in its rows read (Leaflet rebuilds those rows whenever
   * an overlay is added, so state stored in them would be lost), and summarised in the
   * status line.
   */
  var layerFlags = {
    flags: new Map(),
    titles: new Map(),
    container: null,
    set: function (key, flag) {
      this.flags.set(key, flag);
      if (this.container) {
        this.container.style.setProperty("--gm-below-" + cssKey(key), flag.below ? "inline" : "none");
        this.container.style.setProperty("--gm-truncated-" + cssKey(key), flag.truncated ? "inline" : "none");
      }
      this.summarise();
    },
    summarise: function () {
      var below = [];
      var truncated = [];
      this.flags.forEach(function (flag, key) {
        if (flag.below) below.push(layerFlags.titles.get(key));
        if (flag.truncated) truncated.push(layerFlags.titles.get(key));
      });
      var parts = [];
      if (below.length) parts.push(fmt(S.zoomInFor, { layers: below.join(S.listSeparator) }));
      if (truncated.length) parts.push(fmt(S.truncated, { layer: truncated.join(S.listSeparator) }));
      status.setHint(parts.join(" · "));
    },
  };

  function cssKey(key) {
    return key.replace(/[^a-zA-Z0-9_-]/g, "-");
  }

  function overlayLabel(def, swatch) {
    var key = cssKey(def.key);
    return '<span class="gm-layer-label">' + swatch +
      '<span class="gm-layer-title">' + escapeHtml(def.title) + "</span>" +
      '<small class="gm-layer-hint" style="display:var(--gm-below-' + key + ',none)">' +
      escapeHtml(S.zoomHint) + "</small>" +
      '<small class="gm-layer-hint" style="display:var(--gm-truncated-' + key + ',none)">' +
      escapeHtml(S.truncatedHint) + "</small>" +
      "</span>";
  }

  /** A legend swatch drawn from the layer's own style, so legend and map cannot disagree. */
  function styleSwatch(style) {
    if (typeof style.style === "function") {   // lines styled per feature: show the major kind
      var line = style.style({ properties: { kind: "arterial" } });
      return '<span class="gm-swatch gm-swatch-line" style="background:' + line.color + '"></span>';
    }
    var s = style.style;
    return '<span class="gm-swatch" style="border-color:' + s.color +
      (s.dashArray ? ";border-style:dashed" : "") +
      ";background:" + (s.fill === false ? "transparent" : s.fillColor) + '"></span>';
  }

  // ---------------------------------------------------------------- popups

  function row(label, value) {
    return [el("dt", null, label), el("dd", null, value === null || value === undefined || value === "" ? S.none : value)];
  }

  function staffText(staff) {
    if (Array.isArray(staff)) {
      return staff.map(function (s) { return typeof s === "string" ? s : (s && s.name) || ""; })
        .filter(Boolean).join(S.listSeparator);
    }
    return staff || "";
  }

  /**
   * A building's counts of vulnerable residents: the API sends them only to staff whose
   * territory holds the building (the public and planners never get them).
   */
  function vulnerableNode(building) {
    if (typeof building.aged_80_plus !== "number") return null;
    return el("small", "gm-vulnerable", [fmt(S.aged80, { n: building.aged_80_plus }), " · ",
      fmt(S.livingAlone, { n: building.elderly_living_alone })]);
  }

  /** The whole hierarchy at a point, from /api/locate. */
  function renderLocation(data) {
    var grid = data.grid || {};
    var worker = data.grid_worker;
    var building = data.building;
    var workerNode = null;
    if (worker) {
      workerNode = el("span", null, [worker.name + " "]);
      if (worker.phone) {
        var tel = el("a", "gm-tel", worker.phone);
        tel.href = "tel:" + String(worker.phone).replace(/[^\d+]/g, "");
        workerNode.append(tel);
      }
    }
    var buildingNode = building ? el("span", null, [
      building.name,
      el("small", "gm-muted", [building.address,
        building.address && building.distance_m !== null && building.distance_m !== undefined ? " · " : "",
        building.distance_m === null || building.distance_m === undefined ? "" : fmt(S.meters, { n: Math.round(building.distance_m) })]),
      vulnerableNode(building),
    ]) : null;
    var dl = el("dl", "gm-kv", [].concat(
      row(S.community, data.community && data.community.name),
      row(S.subdistrict, data.subdistrict && data.subdistrict.name),
      row(S.district, data.district && data.district.name),
      row(S.gridWorker, workerNode),
      row(S.nearestBuilding, buildingNode)));
    var departments = data.departments || [];
    var deptList = departments.length
      ? el("ul", "gm-depts", departments.map(function (d) {
        return el("li", null, [el("strong", null, d.name), " ", el("span", "gm-muted", staffText(d.staff))]);
      }))
      : el("p", "gm-muted", S.none);
    return el("div", "gm-location", [
      el("div", "gm-location-head", [
        el("span", "gm-kicker", S.grid),
        el("strong", "gm-grid-name", grid.name),
        el("code", "gm-grid-code", grid.code),
      ]),
      dl,
      el("h4", null, S.departments),
      deptList,
      // "导出该区域的…" for the roles that may export (map-export.js, loaded only for them).
      window.GridmapMapExport ? window.GridmapMapExport.forLocation(data) : null,
    ]);
  }

  function renderFacility(props) {
    return el("div", "gm-facility", [
      el("div", "gm-location-head", [
        el("span", "gm-kicker", [el("span", "gm-dot", null), props.type_name]),
        el("strong", null, props.name),
      ]),
      el("dl", "gm-kv", [].concat(
        row(S.capacity, props.capacity),
        row(S.hours, props.hours))),
    ]);
  }

  function setupLocate(map) {
    var popup = L.popup({ maxWidth: 320, minWidth: 220, autoPanPadding: [16, 16], className: "gm-popup" });
    var controller = null;

    /** Open the popup at latlng: optional `head` (a facility) above the grid hierarchy. */
    function locateAt(latlng, head) {
      if (controller) controller.abort();
      var current = new AbortController();
      controller = current;
      var slot = el("p", "gm-muted gm-locating", S.locating);
      popup.setLatLng(latlng).setContent(el("div", "gm-popup-body", [head, slot])).openOn(map);
      var point = map.wrapLatLng(latlng);
      getJSON("/locate", { lon: point.lng.toFixed(7), lat: point.lat.toFixed(7) }, current.signal)
        .then(function (data) { slot.replaceWith(renderLocation(data)); })
        .catch(function (err) {
          if (isAbort(err)) return;
          slot.className = "gm-popup-error";
          slot.textContent = err.status ? err.message : S.locateFailed;
        })
        .finally(function () { if (popup.isOpen()) popup.update(); });
    }

    var pending = null;
    map.on("click", function (e) {
      clearTimeout(pending);
      pending = setTimeout(function () { locateAt(e.latlng); }, CLICK_DELAY_MS);
    });
    map.on("dblclick", function () { clearTimeout(pending); });
    return locateAt;
  }

  // ---------------------------------------------------------------- search

  function setupSearch(map) {
    var form = document.querySelector(".gm-search");
    var input = document.getElementById("gm-search-input");
    var list = document.getElementById("gm-search-results");
    var results = [];
    var active = -1;
    var controller = null;
    var highlight = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function showMessage(text) {
      results = [];
      list.replaceChildren(el("li", "gm-search-message", text));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function setActive(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", String(i === index));
        if (i === index) {
          input.setAttribute("aria-activedescendant", item.id);
          item.scrollIntoView({ block: "nearest" });
        }
      });
    }

    function render(items) {
      results = items;
      if (!items.length) { showMessage(fmt(S.searchEmpty, { q: input.value.trim() })); return; }
      list.replaceChildren.apply(list, items.map(function (r, i) {
        var item = el("li", "gm-search-result", [
          el("span", "gm-result-kind", S.kinds[r.kind] || r.kind),
          el("span", "gm-result-name", r.name),
          el("span", "gm-result-context", r.context),
        ]);
        item.id = "gm-search-result-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.addEventListener("click", function () { choose(r); });
        return item;
      }));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function run() {
      var q = input.value.trim();
      if (controller) controller.abort();
      if (!q) { close(); return; }
      var current = new AbortController();
      controller = current;
      showMessage(S.searching);
      getJSON("/search", { q: q, limit: 10 }, current.signal)
        .then(function (body) { render(body.results || []); })
        .catch(function (err) {
          if (!isAbort(err)) showMessage(fmt(S.searchFailed, { reason: reasonOf(err) }));
        });
    }

    function choose(result) {
      close();
      input.value = result.name;
      input.blur();                 // on phones: put the keyboard away so the map is visible
      var bounds = boundsFromBbox(result.bbox);
      map.fitBounds(bounds, { padding: [32, 32], maxZoom: 18 });
      clearHighlight();
      // The result's real shape (an area's outline, a street's line, a building's footprint);
      // it stays until the next search, so the place can be read against the map.
      var options = { pane: "gm-highlight", renderer: map.gmRenderers["gm-highlight"],
        interactive: false, className: "gm-highlight",
        color: "#ff7a00", weight: result.kind === "street" ? 6 : 3, opacity: 0.9,
        fillColor: "#ff7a00", fillOpacity: 0.12 };
      var geometry = result.geometry || { type: "Point", coordinates: [bounds.getCenter().lng, bounds.getCenter().lat] };
      highlight = L.geoJSON(geometry, {
        style: function () { return options; },
        pointToLayer: function (f, latlng) { return L.circleMarker(latlng, Object.assign({ radius: 16 }, options)); },
      }).addTo(map);
      highlight.getLayers().forEach(function (layer) { if (layer.getElement) layer.getElement().dataset.kind = result.kind; });
    }

    function clearHighlight() {
      if (highlight) map.removeLayer(highlight);
      highlight = null;
    }
    input.addEventListener("search", function () { if (!input.value.trim()) clearHighlight(); });

    var runSoon = debounce(run, SEARCH_DELAY_MS);
    input.addEventListener("input", runSoon);
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && results.length) {
        e.preventDefault();
        setActive((active + 1) % results.length);
      } else if (e.key === "ArrowUp" && results.length) {
        e.preventDefault();
        setActive((active - 1 + results.length) % results.length);
      } else if (e.key === "Escape") {
        close();
      }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (results.length) choose(results[Math.max(active, 0)]);
      else run();
    });
    document.addEventListener("pointerdown", function (e) {
      if (!form.contains(e.target)) close();
    });
  }

  // ---------------------------------------------------------------- the map

  function createMap() {
    var map = L.map("map", {
      zoomControl: false,
      minZoom: 3,
      maxZoom: 19,
      // Until /api/meta answers with the real extent: central Shenyang.
      center: [41.80, 123.43],
      zoom: 11,
    });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" rel="noopener">Leaflet</a>');
    L.control.zoom({ position: "bottomright" }).addTo(map);
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    // One SVG renderer per pane, made up front and shared by that pane's layers, instead of
    // being created lazily by whichever layer lands there first, possibly in the middle of a
    // zoom animation (e.g. the search highlight), when Leaflet would size it for the old view.
    map.gmRenderers = {};
    PANES.forEach(function (pane) {
      map.createPane(pane[0]).style.zIndex = String(pane[1]);
      map.gmRenderers[pane[0]] = L.svg({ pane: pane[0], padding: 0.2 }).addTo(map);
    });
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
    } else {
      // No tile server configured (the default, and offline): a plain background with our own
      // streets drawn as the basemap.
      map.getContainer().classList.add("gm-map-plain");
    }
    return map;
  }

  function buildLayers(map, meta, locateAt, tilejson) {
    var byName = {};
    meta.layers.forEach(function (layer) { byName[layer.name] = layer; });
    var layers = [];
    var labels = {};
    Object.keys(LAYER_STYLES).forEach(function (name) {
      var info = byName[name];
      if (!info) return;
      var style = LAYER_STYLES[name];
      var def = { key: name, name: name, title: info.title, minzoom: info.minzoom || 0, query: {} };
      if (tilejson[name]) {
        def.minzoom = Math.max(tilejson[name].minzoom + 1, TILE_LAYERS[name]);
        layers.push(new TileOverlay(map, def, tilejson[name], style));
      } else {
        layers.push(new RemoteLayer(map, def, { pane: style.pane, renderer: map.gmRenderers[style.pane],
          style: style.style, interactive: false }));
      }
      labels[name] = overlayLabel(def, styleSwatch(style));
    });
    var facilities = byName.facilities;
    (facilities ? meta.facility_types : []).forEach(function (type) {
      var def = { key: "facility:" + type.code, name: "facilities", title: type.name,
        minzoom: facilities.minzoom || 0, query: { type: type.code } };
      layers.push(new RemoteLayer(map, def, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { pane: "gm-facilities", renderer: map.gmRenderers["gm-facilities"],
            radius: COARSE ? 9 : 6, bubblingMouseEvents: false,   // its own popup, not a map click
            color: "#ffffff", weight: 1.5, fillColor: feature.properties.color || type.color, fillOpacity: 0.95 });
        },
        onEachFeature: function (feature, marker) {
          marker.on("click", function () {
            var head = renderFacility(feature.properties);
            head.style.setProperty("--gm-dot", feature.properties.color || type.color);
            locateAt(marker.getLatLng(), head);
          });
        },
      }));
      labels[def.key] = overlayLabel(def,
        '<span class="gm-swatch gm-swatch-dot" style="background:' + escapeHtml(type.color) + '"></span>');
    });
    return { layers: layers, labels: labels };
  }

  function addLayerControl(map, built) {
    var overlays = {};
    built.layers.forEach(function (layer) {
      overlays[built.labels[layer.def.key]] = layer.group;
      layerFlags.titles.set(layer.def.key, layer.def.title);
    });
    var narrow = window.matchMedia("(max-width: 640px)").matches;
    var control = L.control.layers(null, overlays, { collapsed: narrow, position: "topright" }).addTo(map);
    layerFlags.container = control.getContainer();
    return control;
  }

  function start() {
    var map = createMap();
    var locateAt = setupLocate(map);
    setupSearch(map);
    status.start("meta");
    Promise.all([getJSON("/meta", {}), loadTileJSON()])
      .then(function (answers) {
        var meta = answers[0];
        if (meta.extent) map.fitBounds(boundsFromBbox(meta.extent), { animate: false });
        var built = buildLayers(map, meta, locateAt, answers[1]);
        addLayerControl(map, built);
        if (window.GridmapMapExport) window.GridmapMapExport.attach(map, built.layers);
        built.layers.forEach(function (layer) {
          if (DEFAULT_ON.indexOf(layer.def.key) >= 0) layer.group.addTo(map);
        });
        var refreshPending = false;
        var refreshAll = debounce(function () {
          refreshPending = false;
          built.layers.forEach(function (layer) { layer.refresh(); });
        }, REFRESH_DELAY_MS);
        map.on("movestart", function () { refreshPending = true; });
        map.on("moveend", function () { refreshPending = true; refreshAll(); });
        // A debugging and testing handle; nothing in the page depends on it.
        window.gridmap = {
          map: map,
          layers: built.layers,
          /** How many distinct features a tiled layer drew at the current zoom (null: GeoJSON). */
          drawnFeatures: function (name) {
            var layer = built.layers.find(function (l) { return l.def.key === name; });
            return layer && layer.drawn ? layer.drawn.size : null;
          },
          /** True when the view has settled and every layer has its data for it. */
          isIdle: function () {
            return !refreshPending && built.layers.every(function (layer) { return !layer.controller; });
          },
        };
      })
      .catch(function (err) {
        status.fail("meta", fmt(S.metaFailed, { reason: reasonOf(err) }));
      })
      .finally(function () { status.done("meta"); });
  }

  start();
})();
