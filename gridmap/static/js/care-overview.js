/*
 * gridmap — zero-report overview (零报告总览) for community, sub-district and district staff.
 * One request, /api/care/overview.geojson (one set-based statement on the server), draws both
 * the map (grid polygons coloured by the month's report state, a thick red outline where visits
 * are overdue) and the list (the same rows). A grid opens its month page (names there, for
 * those whose scope holds it; the view is logged). Counts only here. Strings come from the
 * template.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  if (!G.requireAccount()) return;
  var S = G.strings;
  var $ = function (id) { return document.getElementById(id); };
  var COLOURS = { reported: "#2e7d32", reported_late: "#8bc34a", late: "#c62828", not_due: "#9e9e9e" };
  var map = null;
  var layer = null;
  var asked = 0;
  var areaPicker = window.GridmapPickers.area($("gcv-area"), {
    levels: ["district", "subdistrict", "community"],
  });

  function monthUrl(code, month) {
    return G.pageUrl("/care/grids/" + encodeURIComponent(code) + "/month?month=" + encodeURIComponent(month));
  }

  function ensureMap() {
    if (map) return map;
    map = L.map("gcv-map", { minZoom: 3, maxZoom: 19, center: [41.80, 123.43], zoom: 12 });
    if (G.config.tileUrl) {
      L.tileLayer(G.config.tileUrl, { attribution: G.config.tileAttribution, maxZoom: 19 }).addTo(map);
    }
    return map;
  }

  function stateText(p) {
    var text = S.states[p.report_state] || p.report_state;
    if (p.submitted_at) {
      text += " " + new Date(p.submitted_at).toLocaleDateString(G.config.lang === "en" ? "en-GB" : "zh-CN",
        { timeZone: "Asia/Shanghai" });
    }
    return text;
  }

  function drawMap(features, month) {
    ensureMap();
    if (layer) layer.remove();
    layer = L.geoJSON({ type: "FeatureCollection", features: features.filter(function (f) { return f.geometry; }) }, {
      style: function (f) {
        var p = f.properties;
        var overdue = p.overdue > 0;
        return { color: overdue ? "#b71c1c" : "#37474f", weight: overdue ? 4 : 1,
                 fillColor: COLOURS[p.report_state] || "#9e9e9e", fillOpacity: 0.45 };
      },
      onEachFeature: function (f, shape) {
        var p = f.properties;
        var box = G.el("div", "gcv-pop", [
          G.el("strong", "", p.name), G.el("div", "", stateText(p)),
          p.overdue > 0 ? G.el("div", "gcv-overdue", G.fmt(S.overdueTitle, { n: p.overdue })) : null,
        ]);
        var link = G.el("a", "", S.open);
        link.href = monthUrl(p.code, month);
        box.append(link);
        shape.bindPopup(box);
        shape.bindTooltip(p.name);
      },
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  }

  function cell(text, className) { return G.el("td", className || "", text === null || text === undefined ? "" : String(text)); }

  function drawList(features, month) {
    var body = $("gcv-rows");
    body.replaceChildren();
    features.forEach(function (f) {
      var p = f.properties;
      var tr = G.el("tr", "gcv-row gcv-row-" + p.report_state);
      tr.dataset.grid = p.code;
      var link = G.el("a", "gc-link", p.name);
      link.href = monthUrl(p.code, month);
      var name = G.el("td", "gcv-name", [link, G.el("small", "gcv-code", p.community_name)]);
      var state = G.el("td", "gcv-state", [G.el("span", "gcv-dot gcv-s-" + p.report_state), stateText(p)]);
      if (p.reported) state.append(G.el("small", "", p.no_new_difficulty ? S.noNewDifficulty : S.newDifficulty));
      tr.append(name, cell(p.worker || S.noWorker), cell(p.entries, "gcv-num"), cell(p.visited, "gcv-num"),
        cell(p.explained, "gcv-num"), cell(p.pending, "gcv-num" + (p.pending ? " gcv-warn" : "")),
        cell(p.overdue, "gcv-num" + (p.overdue ? " gcv-overdue" : "")), state);
      body.append(tr);
    });
    $("gcv-empty").hidden = features.length > 0;
  }

  function load() {
    var mine = ++asked;
    var month = $("gcv-month").value || G.config.thisMonth;
    var params = { month: month, problems_only: $("gcv-problems").checked ? "1" : "" };
    var unit = areaPicker.value();
    if (unit) params[unit.level] = unit.code;
    $("gcv-error").hidden = true;
    $("gcv-status").textContent = S.loading;
    var query = new URLSearchParams(window.location.search);
    ["month", "district", "subdistrict", "community", "problems_only"].forEach(function (k) {
      if (params[k]) query.set(k, params[k]); else query.delete(k);
    });
    history.replaceState(null, "", "?" + query.toString());
    G.getJSON("/care/overview.geojson", params).then(function (answer) {
      if (mine !== asked) return;
      var t = answer.totals;
      $("gcv-status").textContent = G.fmt(S.summary, { month: answer.month, grids: t.grids, late: t.late,
        notDue: t.not_due, overdue: t.overdue, pending: t.pending,
        deadline: answer.due_by });
      drawList(answer.features, answer.month);
      drawMap(answer.features, answer.month);
    }).catch(function (err) {
      if (mine !== asked) return;
      $("gcv-status").textContent = "";
      $("gcv-error").textContent = G.fmt(S.loadFailed, { reason: G.reasonOf(err, "") });
      $("gcv-error").hidden = false;
    });
  }

  var start = new URLSearchParams(window.location.search);
  $("gcv-month").value = start.get("month") || G.config.thisMonth;
  $("gcv-month").max = G.config.thisMonth;
  $("gcv-problems").checked = start.get("problems_only") === "1";
  var code = start.get("community") || start.get("subdistrict") || start.get("district");
  if (code) areaPicker.set(code);
  $("gcv-form").addEventListener("submit", function (event) { event.preventDefault(); load(); });
  $("gcv-problems").addEventListener("change", load);
  load();
})();
