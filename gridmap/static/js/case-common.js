/*
 * gridmap — helpers shared by the case pages (intake, detail, board).
 *
 * Exposes window.GridmapCases: the case-specific parts (states, the signed-in person, the case
 * map) plus, under the names the case and coverage scripts use, the generic helpers of
 * window.Gridmap (common.js). The case pages need an account (`requireAccount`, from common.js);
 * the coverage pages share these helpers without that rule.
 * All user-visible text comes from the page: the strings shared by every case page
 * (#gm-case-strings) merged with the page's own (#gm-page-config).
 */
(function () {
  "use strict";

  var BASEMAP_MINZOOM = 15;          // our streets and grids are drawn from this zoom on
  var REFRESH_DELAY_MS = 200;

  var G = window.Gridmap;           // the generic helpers (common.js), shared by every page
  var readJSON = G.readJSON;

  var config = G.config;

  // Display orders, from the server's own lists (the JSON string tables arrive with their keys
  // sorted); the state groups, limits and area-code widths come in the same page config.
  var ORDER = {
    states: config.states || [],
    channels: config.channels || [],
    ratings: config.ratings || [],
    reasons: config.reasons || [],
  };
  var LIMITS = config.limits || {};

  // Area levels by code width, coarsest first (JSON objects arrive with their keys sorted).
  var WIDTHS = config.areaLevels || {};
  var AREA_LEVELS = Object.keys(WIDTHS).sort(function (a, b) { return WIDTHS[a] - WIDTHS[b]; });

  /** The area filter a code names by its width ("district", "grid" …), or null. */
  function areaLevel(code) {
    if (!/^\d+$/.test(code)) return null;
    return AREA_LEVELS.find(function (level) { return WIDTHS[level] === code.length; }) || null;
  }
  var S = Object.assign({}, readJSON("gm-case-strings"), config.strings || {});
  var fmt = G.fmt;
  var el = G.el;
  var debounce = G.debounce;
  var isAbort = G.isAbort;
  var apiUrl = G.apiUrl;
  var request = G.request;
  var getJSON = G.getJSON;

  /** The API's message for a failed request, else the case pages' own network-error text. */
  function reasonOf(err) { return G.reasonOf(err, S.networkError); }

  // ---------------------------------------------------------------- dates and statuses

  var locale = config.lang === "en" ? "en-GB" : "zh-CN";
  var dateTimeFormat = new Intl.DateTimeFormat(locale, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  /** An ISO timestamp in the browser's local time. */
  function localTime(iso) {
    if (!iso) return S.none;
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : dateTimeFormat.format(date);
  }

  function stateBadge(state) {
    var badge = el("span", "gc-badge gc-state-" + state, (S.states && S.states[state]) || state);
    badge.dataset.state = state;
    return badge;
  }

  function dueBadge(status) {
    if (!status) return null;
    return el("span", "gc-due gc-due-" + status, (S.due && S.due[status]) || status);
  }

  function roleText(role) { return (S.roles && S.roles[role]) || role || ""; }

  // ---------------------------------------------------------------- the map

  /**
   * A Leaflet map with our own basemap: streets and grid boundaries from /api/layers, drawn at
   * zoom >= 15 (same offline approach as the grid map page; a tile server only if configured).
   */
  function createMap(elementId, options) {
    var map = L.map(elementId, Object.assign({ minZoom: 3, maxZoom: 19, center: [41.80, 123.43], zoom: 12 },
      options || {}));
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" rel="noopener">Leaflet</a>');
    map.createPane("gc-streets").style.zIndex = "350";
    map.createPane("gc-grids").style.zIndex = "400";
    var renderers = {
      streets: L.svg({ pane: "gc-streets", padding: 0.2 }).addTo(map),
      grids: L.svg({ pane: "gc-grids", padding: 0.2 }).addTo(map),
    };
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
    } else {
      map.getContainer().classList.add("gc-map-plain");
    }
    var layers = {
      streets: L.geoJSON(null, { pane: "gc-streets", renderer: renderers.streets, interactive: false,
        style: function (f) {
          return f.properties && f.properties.kind === "arterial"
            ? { color: "#c6c0b4", weight: 4.5, opacity: 1, lineCap: "round" }
            : { color: "#d9d4ca", weight: 1.6, opacity: 1, lineCap: "round" };
        } }).addTo(map),
      grids: L.geoJSON(null, { pane: "gc-grids", renderer: renderers.grids, interactive: false,
        style: { color: "#2f6fb5", weight: 1, opacity: 0.8, fillColor: "#4f8fd6", fillOpacity: 0.06 } }).addTo(map),
    };
    var controllers = {};
    var pending = 0;
    var handle = { map: map, below: false };

    function bboxParam(bounds) {
      return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (v) { return v.toFixed(6); }).join(",");
    }

    function load(name) {
      if (controllers[name]) { controllers[name].abort(); pending -= 1; }
      var controller = new AbortController();
      controllers[name] = controller;
      pending += 1;
      getJSON("/layers/" + name + ".geojson",
        { bbox: bboxParam(map.getBounds().pad(0.15)), zoom: map.getZoom() }, controller.signal)
        .then(function (collection) {
          layers[name].clearLayers();
          layers[name].addData(collection);
          if (handle.onData) handle.onData(name, collection);   // e.g. the intake's street names
        })
        .catch(function (err) { if (!isAbort(err) && handle.onError) handle.onError(reasonOf(err)); })
        .finally(function () {
          if (controllers[name] === controller) { controllers[name] = null; pending -= 1; }
        });
    }

    var refresh = debounce(function () {
      handle.below = map.getZoom() < BASEMAP_MINZOOM;
      if (handle.below) {
        Object.keys(layers).forEach(function (name) { layers[name].clearLayers(); });
      } else {
        Object.keys(layers).forEach(load);
      }
      if (handle.onZoomHint) handle.onZoomHint(handle.below);
    }, REFRESH_DELAY_MS);
    var moving = false;
    map.on("movestart", function () { moving = true; });
    map.on("moveend", function () { moving = false; refresh(); });
    handle.isIdle = function () { return !moving && pending === 0; };
    refresh();
    return handle;
  }

  /** Zoom to the loaded extent (from /api/meta) when the page has no point of its own yet. */
  function fitExtent(map) {
    return getJSON("/meta", {}).then(function (meta) {
      if (meta.extent) {
        map.fitBounds([[meta.extent[1], meta.extent[0]], [meta.extent[3], meta.extent[2]]], { animate: false });
      }
      return meta;
    });
  }

  window.GridmapCases = {
    config: config,
    S: S,
    ORDER: ORDER,
    LIMITS: LIMITS,
    STATE_GROUPS: config.stateGroups || {},
    areaLevel: areaLevel,
    AREA_LEVELS: AREA_LEVELS,
    fmt: fmt,
    el: el,
    debounce: debounce,
    isAbort: isAbort,
    reasonOf: reasonOf,
    apiUrl: apiUrl,
    request: request,
    errorFrom: G.errorFrom,
    oneLanguage: G.oneLanguage,
    getJSON: getJSON,
    localTime: localTime,
    stateBadge: stateBadge,
    dueBadge: dueBadge,
    roleText: roleText,
    me: G.me,
    requireAccount: G.requireAccount,
    toSignIn: G.toSignIn,
    createMap: createMap,
    fitExtent: fitExtent,
    pageUrl: G.pageUrl,
  };
})();
