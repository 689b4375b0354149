/*
 * gridmap — helpers shared by the case pages (intake, detail, board).
 *
 * Exposes window.GridmapCases. All user-visible text comes from the page: the strings shared by
 * every case page (#gm-case-strings) merged with the page's own (#gm-page-config).
 */
(function () {
  "use strict";

  var ACTOR_KEY = "gridmap.actorId";
  var BASEMAP_MINZOOM = 15;          // our streets and grids are drawn from this zoom on
  var REFRESH_DELAY_MS = 200;

  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  var config = readJSON("gm-page-config");

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

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  /** Build an element; children are nodes or strings (always inserted as text, never HTML). */
  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      if (child === null || child === undefined || child === "" || child === false) return;
      node.append(child instanceof Node ? child : String(child));
    });
    return node;
  }

  function debounce(fn, delayMs) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, delayMs);
    };
  }

  function isAbort(err) { return err && err.name === "AbortError"; }

  function reasonOf(err) { return err && err.status ? err.message : S.networkError; }

  function apiUrl(path, params) {
    var url = new URL(config.apiBase + path, window.location.href);
    Object.keys(params || {}).forEach(function (key) {
      var value = params[key];
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    });
    return url;
  }

  /** Fetch and parse; resolves {ok, status, body}; rejects only when the network fails. */
  function request(path, options, params) {
    var init = Object.assign({ headers: { Accept: "application/json" }, credentials: "same-origin" }, options || {});
    return fetch(apiUrl(path, params), init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  function errorFrom(result) {
    var body = result.body;
    var err = new Error((body && body.error && body.error.message) || String(result.status));
    err.status = result.status;
    err.code = body && body.error && body.error.code;
    err.body = body;
    return err;
  }

  /** GET JSON; non-2xx answers throw with the API's own message. */
  function getJSON(path, params, signal) {
    return request(path, { signal: signal }, params).then(function (result) {
      if (result.ok && result.body) return result.body;
      throw errorFrom(result);
    });
  }

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

  function personLabel(person) {
    var parts = [person.name, roleText(person.role)];
    if (person.department) parts.push(person.department);
    return parts.filter(Boolean).join(" · ");
  }

  // ---------------------------------------------------------------- who is acting

  function storedActor() {
    try { return window.localStorage.getItem(ACTOR_KEY) || ""; } catch (e) { return ""; }
  }

  function storeActor(id) {
    try {
      if (id) window.localStorage.setItem(ACTOR_KEY, String(id));
      else window.localStorage.removeItem(ACTOR_KEY);
    } catch (e) { /* private mode: the choice simply is not remembered */ }
  }

  /**
   * Fill `select` with the people of `grid` (from /api/people), preselecting the remembered
   * person when they belong to this grid. Resolves the list.
   */
  function loadPeople(select, grid, emptyText) {
    select.disabled = true;
    return getJSON("/people", { grid: grid }).then(function (people) {
      var remembered = storedActor();
      var options = [el("option", null, people.length ? S.chooseActor : emptyText)];
      options[0].value = "";
      people.forEach(function (person) {
        var option = el("option", null, personLabel(person));
        option.value = String(person.id);
        option.dataset.role = person.role;
        options.push(option);
      });
      select.replaceChildren.apply(select, options);
      select.value = people.some(function (p) { return String(p.id) === remembered; }) ? remembered : "";
      select.disabled = !people.length;
      return people;
    });
  }

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
    errorFrom: errorFrom,
    getJSON: getJSON,
    localTime: localTime,
    stateBadge: stateBadge,
    dueBadge: dueBadge,
    roleText: roleText,
    personLabel: personLabel,
    storedActor: storedActor,
    storeActor: storeActor,
    loadPeople: loadPeople,
    createMap: createMap,
    fitExtent: fitExtent,
    pageUrl: function (path) { return (config.root || "") + path; },
  };
})();
