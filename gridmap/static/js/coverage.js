/*
 * gridmap — coverage analysis (覆盖分析). Reads stored runs from /api/coverage/*: buildings
 * coloured by walking-distance band (from street zoom, as vector tiles of the latest run from
 * /tiles/coverage-<type>-<circle>/…, every building, no cap), the facilities of the type,
 * walking catchments (reached street pieces, on demand for the view), a choropleth of elderly
 * coverage by community or grid, the totals, the worst communities and a distance histogram.
 * All user-visible text comes from the page (#gm-page-config, #gm-case-strings).
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  var S = C.S;
  var el = C.el;
  var $ = function (id) { return document.getElementById(id); };
  var config = C.config;
  var LOCALE = config.lang === "en" ? "en-GB" : "zh-CN";
  var BUILDING_MINZOOM = 15;
  var LIMITS = config.limits;  // server limits and factors, from the page config
  var CATCHMENT_MAX_M = LIMITS.catchmentMaxM;
  var BAND_COLOURS = { covered: "#2e9d4f", near_miss: "#f0a202", far: "#d0312d" };

  function status(text, kind) {
    var node = $("gcv-status");
    node.textContent = text || "";
    node.dataset.kind = kind || "";
    node.hidden = !text;
  }
  if (!window.L) { status(S.leafletMissing, "error"); return; }

  var handle = C.createMap("gcv-map", { zoomControl: true });
  var map = handle.map;
  var pending = 0;
  var state = { run: null, runs: [], controllers: {} };
  handle.onError = function (reason) { status(C.fmt(S.loadFailed, { reason: reason }), "error"); };
  window.gridmap = { map: map, isIdle: function () { return handle.isIdle() && pending === 0 && !tilesLoading; } };

  function num(n) { return Number(n).toLocaleString(LOCALE); }
  function pct(rate) { return rate === null || rate === undefined ? S.noData : (rate * 100).toFixed(1) + "%"; }
  function selection() { return { type: $("gcv-type").value, circle: $("gcv-circle").value }; }

  /** Fetch `path` once per `key`: a newer request for the same key aborts the older one. */
  function fetchOnce(key, path, params) {
    if (state.controllers[key]) state.controllers[key].abort();
    var controller = new AbortController();
    state.controllers[key] = controller;
    pending += 1;
    return C.getJSON(path, Object.assign(selection(), params || {}), controller.signal)
      .catch(function (err) {
        // An abort that lands while the body is read surfaces as a parse failure, not AbortError.
        if (!C.isAbort(err) && !controller.signal.aborted) handle.onError(C.reasonOf(err));
        return null;
      })
      .finally(function () { pending -= 1; });
  }

  // ------------------------------------------------------------------ layers

  map.createPane("gcv-areas").style.zIndex = "380";
  map.createPane("gcv-catch").style.zIndex = "420";
  map.createPane("gcv-buildings").style.zIndex = "430";
  map.createPane("gcv-facilities").style.zIndex = "450";

  function rateColour(rate) {
    if (rate === null || rate === undefined) return "#b9c1cc";
    if (rate >= 0.9) return "#1a9850";
    if (rate >= 0.75) return "#91cf60";
    if (rate >= 0.5) return "#fee08b";
    if (rate >= 0.25) return "#fc8d59";
    return "#d73027";
  }

  var areas = L.geoJSON(null, { pane: "gcv-areas",
    style: function (f) {
      return { color: "#5b6072", weight: 1, opacity: 0.7, fillColor: rateColour(f.properties.elderly_rate),
        fillOpacity: map.getZoom() >= BUILDING_MINZOOM ? 0.12 : 0.55, className: "gcv-area" };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(f.properties.name + " · " + C.fmt(S.rateTip,
        { rate: pct(f.properties.elderly_rate), n: num(f.properties.elderly_uncovered) }), { sticky: true });
    } }).addTo(map);

  var catchments = L.geoJSON(null, { pane: "gcv-catch", interactive: false,
    style: { color: "#7b2cbf", weight: 4, opacity: 0.6, className: "gcv-catchment" } }).addTo(map);

  function buildingText(p) {
    var lines = [p.name || p.code, C.fmt(S.people, { r: num(p.residents), e: num(p.elderly) })];
    if (p.distance_m === null) lines.push(C.fmt(S.unreached, { d: num(state.run.max_distance_m * LIMITS.nearMissFactor) }));
    else lines.push(C.fmt(S.distance, { d: num(p.distance_m) }), C.fmt(S.nearest, { name: p.facility }));
    return lines;
  }

  // Band tiles of the current run, drawn as SVG paths (one per building: hover and click
  // reach them as they reached the GeoJSON layer's). GeoJSON below is the fallback when
  // Leaflet.VectorGrid did not load.
  var bandTiles = null;
  var tilesLoading = false;

  function showBandTiles(run) {
    if (bandTiles) { map.removeLayer(bandTiles); bandTiles = null; }
    tilesLoading = false;
    if (!run || !L.vectorGrid) return;
    var id = "coverage-" + run.facility_type + "-" + run.circle;
    bandTiles = L.vectorGrid.protobuf(C.pageUrl("/tiles/" + id + "/{z}/{x}/{y}.mvt"), {
      pane: "gcv-buildings", rendererFactory: L.svg.tile, interactive: true,
      minZoom: BUILDING_MINZOOM, maxNativeZoom: 17, maxZoom: 19,
      fetchOptions: { credentials: "same-origin" },
      vectorTileLayerStyles: { coverage: function (p) {
        var colour = BAND_COLOURS[p.band];
        return { fill: true, color: colour, weight: 1, fillColor: colour, fillOpacity: 0.75,
          className: "gcv-b gcv-b-" + p.band };
      } },
    });
    bandTiles.on("loading", function () { tilesLoading = true; });
    bandTiles.on("load", function () { tilesLoading = false; });
    bandTiles.on("mouseover", function (e) {
      L.tooltip({ sticky: true }).setLatLng(e.latlng).setContent(buildingText(e.layer.properties).join("<br>"))
        .openOn(map);
    });
    bandTiles.on("mouseout", function () { map.eachLayer(function (l) { if (l instanceof L.Tooltip) map.removeLayer(l); }); });
    bandTiles.on("click", function (e) {
      L.DomEvent.stop(e);
      L.popup().setLatLng(e.latlng).setContent(el("div", "gcv-pop", buildingText(e.layer.properties)
        .map(function (t) { return el("div", "", t); }))).openOn(map);
    });
    bandTiles.addTo(map);
  }

  var buildings = L.geoJSON(null, { pane: "gcv-buildings",
    style: function (f) {
      var colour = BAND_COLOURS[f.properties.band];
      return { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.75, className: "gcv-b gcv-b-" + f.properties.band };
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(function () { return buildingText(f.properties).join("<br>"); }, { sticky: true });
      layer.bindPopup(function () {
        return el("div", "gcv-pop", buildingText(f.properties).map(function (t) { return el("div", "", t); }));
      });
    } }).addTo(map);

  var facilities = L.geoJSON(null, { pane: "gcv-facilities",
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 2, fillColor: f.properties.color || "#6a3d9a",
        fillOpacity: 1, className: "gcv-facility" });
    },
    onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); } }).addTo(map);

  function viewBbox(pad) {
    var b = map.getBounds().pad(pad || 0);
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function loadBuildings() {
    if (bandTiles) {                // tiles follow the view by themselves
      status(map.getZoom() < BUILDING_MINZOOM ? S.zoomForBuildings : "", "");
      return;
    }
    if (!state.run || map.getZoom() < BUILDING_MINZOOM) {
      buildings.clearLayers();
      if (state.run) status(S.zoomForBuildings, "");
      return;
    }
    fetchOnce("buildings", "/coverage/buildings.geojson", { bbox: viewBbox(0.2), zoom: map.getZoom() })
      .then(function (fc) {
        if (!fc) return;
        buildings.clearLayers();
        buildings.addData(fc);
        status(fc.truncated ? C.fmt(S.truncated, { n: num(fc.numberReturned) }) : "", "");
      });
  }

  function loadCatchments() {
    catchments.clearLayers();
    if (!state.run || !$("gcv-catchments").checked) return;
    var b = map.getBounds();
    var wide = Math.max(b.getNorthWest().distanceTo(b.getNorthEast()), b.getNorthWest().distanceTo(b.getSouthWest()));
    if (wide > CATCHMENT_MAX_M) { status(S.zoomForCatchments, ""); return; }
    fetchOnce("catchments", "/coverage/catchments.geojson", { bbox: viewBbox(0) }).then(function (fc) {
      if (fc) catchments.addData(fc);
    });
  }

  function loadAreas() {
    var level = $("gcv-choropleth").value;
    areas.clearLayers();
    if (!state.run || !level) return;
    var params = { level: level, zoom: map.getZoom() };
    if (level === "grid") params.bbox = viewBbox(0.2);
    fetchOnce("areas-geo", "/coverage/areas.geojson", params).then(function (fc) {
      if (fc) { areas.clearLayers(); areas.addData(fc); }
    });
  }

  function loadFacilities() {
    facilities.clearLayers();
    fetchOnce("facilities", "/layers/facilities.geojson", { zoom: 12 }).then(function (fc) {
      if (fc) facilities.addData(fc);
    });
  }

  // ------------------------------------------------------------------ panel

  function showTotals(run) {
    $("gcv-run").textContent = C.fmt(S.runInfo, { type: run.facility_type_name, circle: run.circle_name,
      d: num(run.max_distance_m), time: C.localTime(run.computed_at), s: num(run.seconds) });
    $("gcv-t-residents").textContent = pct(run.residents_rate);
    $("gcv-t-elderly").textContent = pct(run.elderly_rate);
    $("gcv-t-uncovered").textContent = num(run.elderly_uncovered);
    $("gcv-l-covered").textContent = C.fmt(S.coveredWithin, { d: num(run.max_distance_m) });
    $("gcv-l-near").textContent = C.fmt(S.nearMiss, { d: num(run.max_distance_m * LIMITS.nearMissFactor) });
  }

  function showTable(rows) {
    var body = $("gcv-table").tBodies[0];
    body.replaceChildren.apply(body, rows.map(function (row) {
      var tr = el("tr", "gcv-row", [el("td", "", row.name), el("td", "gcv-num", pct(row.elderly_rate)),
        el("td", "gcv-num", num(row.elderly_uncovered)), el("td", "gcv-num", pct(row.residents_rate))]);
      tr.tabIndex = 0;
      tr.dataset.code = row.code;
      var zoom = function () {
        if (row.bbox) map.fitBounds([[row.bbox[1], row.bbox[0]], [row.bbox[3], row.bbox[2]]], { animate: false });
      };
      tr.addEventListener("click", zoom);
      tr.addEventListener("keydown", function (e) { if (e.key === "Enter") zoom(); });
      return tr;
    }));
  }

  var chart = null;
  function showHistogram(h) {
    if (!window.echarts) { status(S.echartsMissing, "error"); return; }
    chart = chart || window.echarts.init($("gcv-chart"), null, { renderer: "canvas" });
    var labels = h.bins.map(function (b) { return b.to_m === null ? "≥" + num(b.from_m) : num(b.to_m); });
    var data = h.bins.map(function (b) {
      var band = b.from_m < h.max_distance_m ? "covered" : b.from_m < h.near_miss_m ? "near_miss" : "far";
      return { value: b.buildings, itemStyle: { color: BAND_COLOURS[band] } };
    });
    labels.push(S.unreachedBar);
    data.push({ value: h.unreached.buildings, itemStyle: { color: "#7a1f1c" } });
    chart.setOption({
      animation: false, grid: { left: 44, right: 8, top: 24, bottom: 36 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: labels, name: S.meters, nameGap: 4, axisLabel: { fontSize: 10, interval: 3 } },
      yAxis: { type: "value", name: S.buildings, nameTextStyle: { align: "left" } },
      series: [{ type: "bar", name: S.buildings, data: data, barCategoryGap: "10%" }],
    }, true);
  }

  function setExports() {
    var q = selection();
    $("gcv-x-bcsv").href = C.apiUrl("/coverage/buildings.csv", q).toString();
    $("gcv-x-bjson").href = C.apiUrl("/coverage/buildings.geojson", q).toString();
    $("gcv-x-acsv").href = C.apiUrl("/coverage/areas.csv", Object.assign({ level: "community" }, q)).toString();
    $("gcv-x-ajson").href = C.apiUrl("/coverage/areas.geojson", Object.assign({ level: "community" }, q)).toString();
  }

  // ------------------------------------------------------------------ choosing a run

  function choose() {
    var q = selection();
    var run = state.runs.filter(function (r) { return r.facility_type === q.type && r.circle === q.circle; })[0] || null;
    state.run = run;
    var url = new URL(window.location.href);
    url.searchParams.set("type", q.type);
    url.searchParams.set("circle", q.circle);
    window.history.replaceState(null, "", url);
    $("gcv-missing").hidden = !!run;
    $("gcv-result").hidden = !run;
    [buildings, catchments, areas].forEach(function (layer) { layer.clearLayers(); });
    showBandTiles(run);
    loadFacilities();
    if (!run) {
      status("");
      return;
    }
    showTotals(run);
    showStale(run);
    setExports();
    fetchOnce("areas", "/coverage/areas", { level: "community" }).then(function (b) { if (b) showTable(b.areas); });
    fetchOnce("distances", "/coverage/distances").then(function (h) { if (h) showHistogram(h); });
    refreshView();
    if (planning) planning.loadAreas();
  }

  function refreshView() { loadBuildings(); loadCatchments(); loadAreas(); }

  /** Data the run was computed on that has changed since: say so (and offer to recompute). */
  function showStale(run) {
    var what = (run.stale || []).map(function (layer) { return S.staleWhat[layer] || layer; });
    $("gcv-stale").hidden = !what.length;
    if (what.length) {
      $("gcv-stale-text").textContent = C.fmt(config.may_compute ? S.stale : S.staleAsk, { what: what.join("、") });
    }
  }

  function fillSelect(select, items, wanted) {
    items.forEach(function (item) {
      var option = el("option", "", item.name);
      option.value = item.code;
      select.appendChild(option);
    });
    if (wanted && items.some(function (i) { return i.code === wanted; })) select.value = wanted;
  }

  var params = new URLSearchParams(window.location.search);
  fillSelect($("gcv-type"), config.types, params.get("type") || "elder_care_station");
  fillSelect($("gcv-circle"), config.circles, params.get("circle") || "15min");
  $("gcv-form").addEventListener("change", choose);
  $("gcv-catchments").addEventListener("change", loadCatchments);
  $("gcv-choropleth").addEventListener("change", loadAreas);
  map.on("moveend", C.debounce(function () { if (state.run) refreshView(); }, 200));
  window.addEventListener("resize", function () { if (chart) chart.resize(); });

  // ------------------------------------------------------------------ planning: siting and what-if
  // 选址建议 / 假设分析: computed on request by /api/coverage/siting and /what-if; nothing stored.
  // One runs at a time per planner (the server answers 409 to a second one).

  // Planners only: the page leaves the section out for everyone else (the API refuses them).
  var planning = config.planner && $("gcv-plan") ? setupPlanning() : null;

  function setupPlanning() {
    map.createPane("gcv-plan").style.zIndex = "620";
    var plan = { sites: L.layerGroup().addTo(map), added: L.layerGroup().addTo(map), removed: {}, adding: false,
      areasLoaded: false };

    function planStatus(text, kind) {
      $("gcv-plan-status").textContent = text || "";
      $("gcv-plan-status").dataset.kind = kind || "";
    }

    function postJSON(path, body) {
      pending += 1;
      return C.request(path, { method: "POST", body: JSON.stringify(body),
        headers: { Accept: "application/json", "Content-Type": "application/json" } })
        .then(function (result) {
          if (result.ok && result.body) return result.body;
          throw C.errorFrom(result);
        })
        .catch(function (err) { planStatus(C.fmt(S.loadFailed, { reason: C.reasonOf(err) }), "error"); return null; })
        .finally(function () { pending -= 1; });
    }

    function loadPlanAreas() {
      if (plan.areasLoaded) return;
      Promise.all([fetchOnce("plan-d", "/coverage/areas", { level: "district" }),
        fetchOnce("plan-s", "/coverage/areas", { level: "subdistrict" })]).then(function (out) {
        if (!out[0] || !out[1]) return;
        var select = $("gcv-site-area");
        var byName = function (a, b) { return a.code < b.code ? -1 : 1; };
        out[0].areas.sort(byName).forEach(function (a) {
          var option = el("option", "", C.fmt(S.districtOption, { name: a.name }));
          option.value = a.code;
          option.dataset.level = "district";
          select.appendChild(option);
        });
        out[1].areas.sort(byName).forEach(function (a) {
          var option = el("option", "", a.name);
          option.value = a.code;
          select.appendChild(option);
        });
        plan.areasLoaded = true;
      });
    }

    function siteIcon(rank) {
      return L.divIcon({ className: "gcv-site", html: "<span>" + rank + "</span>", iconSize: [26, 26], iconAnchor: [13, 13] });
    }

    // The planner's own candidate layer (a GeoJSON file), read in the browser and sent as is.
    function candidateLayer() {
      var file = $("gcv-site-candidates").files[0];
      if (!file) return Promise.resolve(undefined);
      return file.text().then(function (text) {
        try { return JSON.parse(text); } catch (e) { throw new Error(S.candidatesInvalid); }
      });
    }

    // A district is sited as a background job (seconds of CPU and hundreds of MB, kept out of
    // the web workers); a sub-district or community in the request itself.
    var siteJobs = new window.GridmapJobs.Panel("gcv-site");

    function siteInBackground(body) {
      body.background = true;
      pending += 1;
      return window.GridmapJobs.start("/coverage/siting", body).then(followSiting)
        .catch(function (err) { planStatus(C.fmt(S.loadFailed, { reason: C.reasonOf(err) }), "error"); return null; })
        .finally(function () { pending -= 1; });
    }

    function followSiting(job) {
      $("gcv-site-run").disabled = true;
      planStatus("");
      return siteJobs.follow(job).then(function (done) {
        $("gcv-site-run").disabled = false;
        if (!done || done.state !== "succeeded") return null;
        siteJobs.say("");
        return done.result;
      });
    }

    function runSiting() {
      var k = Number($("gcv-site-k").value);
      var area = $("gcv-site-area").value;
      var chosen = $("gcv-site-area").selectedOptions[0];
      var district = Boolean(chosen && chosen.dataset.level === "district");
      plan.sites.clearLayers();
      $("gcv-sites").replaceChildren();
      planStatus(S.computing, "");
      candidateLayer()
        .then(function (candidates) {
          var body = Object.assign(selection(), { area: area, k: k, candidates: candidates });
          return district ? siteInBackground(body) : postJSON("/coverage/siting", body);
        }, function (err) { planStatus(err.message, "error"); return null; })
        .then(showSites);
    }

    /** A siting answer on the map and in the list (from the request or from its job). */
    function showSites(report) {
          if (!report) return;
          var items = report.sites.map(function (site, i) {
            var lines = [C.fmt(S.siteRank, { rank: i + 1 }), C.fmt(S.siteGain, { gain: num(site.elderly_gain) }),
              C.fmt(S.siteCumulative, { total: num(site.elderly_cumulative) })];
            var marker = L.marker([site.lat, site.lon], { icon: siteIcon(i + 1), pane: "gcv-plan", title: lines[0] })
              .bindPopup(el("div", "gcv-pop", lines.map(function (t) { return el("div", "", t); })));
            plan.sites.addLayer(marker);
            var li = el("li", "gcv-site-item", lines[1] + " · " + lines[2]);
            li.tabIndex = 0;
            li.addEventListener("click", function () { map.setView(marker.getLatLng(), Math.max(map.getZoom(), 15)); marker.openPopup(); });
            return li;
          });
          $("gcv-sites").replaceChildren.apply($("gcv-sites"), items);
          var total = report.sites.length ? report.sites[report.sites.length - 1].elderly_cumulative : 0;
          planStatus(report.sites.length ? C.fmt(S.siteSummary, { elderly: num(report.elderly),
            covered: num(report.elderly_covered), n: report.sites.length, total: num(total),
            s: (report.seconds.load + report.seconds.site).toFixed(1) }) : S.siteNone, "");
          if (report.sites.length) map.fitBounds(L.featureGroup(plan.sites.getLayers()).getBounds().pad(0.3), { animate: false, maxZoom: 15 });
    }

    function showEdits() {
      $("gcv-wi-edits").textContent = C.fmt(S.wiEdits, { add: plan.added.getLayers().length,
        remove: Object.keys(plan.removed).length });
    }

    function setAdding(on) {
      plan.adding = on;
      $("gcv-wi-add").setAttribute("aria-pressed", on ? "true" : "false");
      map.getContainer().classList.toggle("gcv-adding", on);
      if (on) planStatus(S.wiAddHint, "");
    }

    map.on("click", function (e) {
      if (!plan.adding) return;
      var marker = L.marker(e.latlng, { draggable: true, pane: "gcv-plan", title: S.wiNew,
        icon: L.divIcon({ className: "gcv-wi-new", html: "<span>+</span>", iconSize: [24, 24], iconAnchor: [12, 12] }) });
      marker.bindTooltip(S.wiNew);
      plan.added.addLayer(marker);
      showEdits();
    });

    function markRemoved(layer) {
      var code = layer.feature.properties.code;
      var node = layer.getElement && layer.getElement();
      if (node) node.classList.toggle("gcv-removed", !!plan.removed[code]);
      layer.setStyle({ fillColor: plan.removed[code] ? "#9aa0a6" : layer.feature.properties.color || "#6a3d9a" });
    }

    facilities.on("click", function (e) {
      var p = e.layer.feature.properties;
      if (p.type !== selection().type) return;
      if (plan.removed[p.code]) delete plan.removed[p.code]; else plan.removed[p.code] = true;
      markRemoved(e.layer);
      e.layer.setTooltipContent(p.name + " · " + (plan.removed[p.code] ? S.wiRemoved : S.wiRemove));
      showEdits();
    });
    facilities.on("layeradd", function (e) {
      var p = e.layer.feature && e.layer.feature.properties;
      if (p && p.type === selection().type) {
        e.layer.setTooltipContent(p.name + " · " + (plan.removed[p.code] ? S.wiRemoved : S.wiRemove));
        if (plan.removed[p.code]) markRemoved(e.layer);
      }
    });

    function runWhatIf() {
      var add = plan.added.getLayers().map(function (m) {
        var ll = m.getLatLng();
        return [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))];
      });
      var remove = Object.keys(plan.removed);
      if (!add.length && !remove.length) { planStatus(S.wiNothing, ""); return; }
      setAdding(false);
      planStatus(S.computing, "");
      var asked = Object.assign(selection(), { add: add, remove: remove, level: "district" });
      postJSON("/coverage/what-if", asked)
        .then(function (report) {
          if (!report) return;
          // coverage-scenarios.js offers to save it as a scenario.
          document.dispatchEvent(new CustomEvent("gridmap:whatif", { detail: { request: asked, answer: report } }));
          var t = report.totals;
          var rate = function (covered, total) { return pct(total ? covered / total : null); };
          $("gcv-wi-residents").textContent = C.fmt(S.wiChange, { before: rate(t.residents_covered_before, t.residents),
            after: rate(t.residents_covered_after, t.residents) });
          $("gcv-wi-elderly").textContent = C.fmt(S.wiChange, { before: rate(t.elderly_covered_before, t.elderly),
            after: rate(t.elderly_covered_after, t.elderly) });
          $("gcv-wi-buildings").textContent = C.fmt(S.wiBuildings, { n: num(report.changed_buildings),
            gained: num(report.buildings_gained), lost: num(report.buildings_lost) });
          $("gcv-wi-result").hidden = false;
          planStatus("", "");
        });
    }

    function clearPlan() {
      setAdding(false);
      plan.sites.clearLayers();
      plan.added.clearLayers();
      var removed = plan.removed;
      plan.removed = {};
      facilities.eachLayer(function (layer) { if (removed[layer.feature.properties.code]) markRemoved(layer); });
      $("gcv-sites").replaceChildren();
      $("gcv-wi-result").hidden = true;
      planStatus("", "");
      showEdits();
    }

    $("gcv-site-run").addEventListener("click", runSiting);
    $("gcv-wi-add").addEventListener("click", function () { setAdding(!plan.adding); });
    $("gcv-wi-run").addEventListener("click", runWhatIf);
    $("gcv-wi-clear").addEventListener("click", clearPlan);
    $("gcv-form").addEventListener("change", clearPlan);
    showEdits();
    window.gridmap.plan = plan;
    function resumeSiting(job) {
      pending += 1;
      followSiting(job).then(showSites).finally(function () { pending -= 1; });
    }

    return { loadAreas: loadPlanAreas, resumeSiting: resumeSiting };
  }

  /** Zoom to the reader's area (a district account) or else to the loaded extent. */
  function fitScope() {
    if (!config.area) return C.fitExtent(map);
    return C.getJSON("/search", { q: config.area, limit: 1 }).then(function (found) {
      var hit = found.results.filter(function (r) { return r.code === config.area; })[0];
      if (!hit) return C.fitExtent(map);
      map.fitBounds([[hit.bbox[1], hit.bbox[0]], [hit.bbox[3], hit.bbox[2]]], { animate: false });
      return hit;
    });
  }

  // ------------------------------------------------------------------ computing a missing run
  // A background job (planners, data officers, administrators): its bar shows here, also after
  // a reload, and the run appears when it has finished.

  var Jobs = window.GridmapJobs;
  var jobPanel = new Jobs.Panel("gcv");

  function loadRuns() {
    return C.getJSON("/coverage/runs", {}).then(function (body) { state.runs = body.runs; });
  }

  function followJob(job) {
    if ($("gcv-compute")) $("gcv-compute").disabled = true;
    pending += 1;
    jobPanel.follow(job).then(function (done) {
      if ($("gcv-compute")) $("gcv-compute").disabled = false;
      if (done && done.state === "succeeded") return loadRuns().then(choose);
    }).catch(function (err) { handle.onError(C.reasonOf(err)); }).finally(function () { pending -= 1; });
  }

  if ($("gcv-recompute")) {
    $("gcv-recompute").addEventListener("click", function () {
      var q = selection();
      $("gcv-recompute").disabled = true;
      jobPanel.say("");
      Jobs.start("/coverage/jobs", { type: q.type, circle: q.circle }).then(function (job) {
        $("gcv-recompute").disabled = false;
        followJob(job);
      }, function (err) {
        $("gcv-recompute").disabled = false;
        jobPanel.say(C.fmt(S.computeFailed, { reason: C.reasonOf(err) }), "error");
      });
    });
  }

  if ($("gcv-compute")) {
    $("gcv-compute").addEventListener("click", function () {
      var q = selection();
      $("gcv-compute").disabled = true;
      jobPanel.say("");
      Jobs.start("/coverage/jobs", { type: q.type, circle: q.circle }).then(followJob, function (err) {
        $("gcv-compute").disabled = false;
        jobPanel.say(C.fmt(S.computeFailed, { reason: C.reasonOf(err) }), "error");
      });
    });
  }

  pending += 1;
  Promise.all([fitScope(), loadRuns(), C.getJSON("/coverage/jobs", { active: 1 })]).then(function (out) {
    choose();
    // Jobs under way (also after a reload): a compute of coverage, and the planner's siting.
    var computing = out[2].jobs.filter(function (j) { return j.kind !== "coverage.site"; })[0];
    var siting = out[2].jobs.filter(function (j) { return j.kind === "coverage.site"; })[0];
    if (computing) followJob(computing);
    if (siting && planning) planning.resumeSiting(siting);
  }).catch(function (err) { handle.onError(C.reasonOf(err)); }).finally(function () { pending -= 1; });
})();
