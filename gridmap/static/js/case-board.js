/*
 * gridmap — case board (案件看板). The server orders the cases (overdue first) and pages them by
 * keyset (`next_cursor`); this page only turns the filter form into query parameters, appends
 * pages, and builds the CSV / GeoJSON export links for the same filters. The filters live in
 * the page's URL, so a filtered board can be bookmarked and shared.
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  if (!C.requireAccount()) return;
  var S = C.S;
  var el = C.el;
  var PAGE_SIZE = 50;

  var $ = function (id) { return document.getElementById(id); };
  var form = $("gc-filters");
  var rows = $("gc-board-rows");
  var more = $("gc-load-more");
  var state = { cursor: null, controller: null, filters: {} };

  C.ORDER.states.forEach(function (code) {
    var input = el("input");
    input.type = "checkbox";
    input.name = "state";
    input.value = code;
    $("gc-state-boxes").append(el("label", "gc-check gc-chip", [input, " ", S.states[code]]));
  });

  /** The API's filter parameters from the form. */
  function filtersFromForm() {
    var data = new FormData(form);
    var out = {};
    var states = data.getAll("state");
    if (states.length) out.state = states.join(",");
    ["category", "department", "from", "to"].forEach(function (key) {
      var value = String(data.get(key) || "").trim();
      if (value) out[key] = value;
    });
    var area = String(data.get("area") || "").trim();
    var level = C.areaLevel(area);
    if (level) out[level] = area;
    if (data.get("overdue")) out.overdue = "1";
    return out;
  }

  /** Fill the form from the page's URL (the same parameter names as the API). */
  function formFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var states = (params.get("state") || "").split(",");
    form.querySelectorAll("input[name=state]").forEach(function (box) { box.checked = states.indexOf(box.value) >= 0; });
    ["category", "department", "from", "to"].forEach(function (key) {
      if (params.get(key)) form.elements[key].value = params.get(key);
    });
    var area = C.AREA_LEVELS.slice().reverse().map(function (k) { return params.get(k); }).find(Boolean);
    if (area) form.elements.area.value = area;
    form.elements.overdue.checked = params.get("overdue") === "1";
  }

  function exportLinks(filters) {
    $("gc-export-csv").href = C.apiUrl("/cases.csv", filters).toString();
    $("gc-export-geojson").href = C.apiUrl("/cases.geojson", filters).toString();
  }

  function row(c) {
    var link = el("a", "gc-link", "#" + c.id);
    link.href = C.pageUrl("/cases/" + c.id);
    var due = c.overdue ? C.dueBadge("overdue") : c.soon_due ? C.dueBadge("soon_due") : null;
    var tr = el("tr", c.overdue ? "gc-row-overdue" : c.soon_due ? "gc-row-soon" : "", [
      el("td", null, link),
      el("td", null, c.category_name || c.category),
      el("td", "gc-cell-text", c.description),
      el("td", null, C.stateBadge(c.state)),
      el("td", null, el("code", "gc-code", c.grid_code)),
      el("td", null, c.owner_department_name || (c.owner_kind === "grid" ? S.keptByGrid : S.undispatched)),
      el("td", "gc-nowrap", C.localTime(c.created_at)),
      el("td", "gc-nowrap", [C.localTime(c.resolve_by), " ", due]),
    ]);
    tr.dataset.caseId = String(c.id);
    return tr;
  }

  function fetchPage(reset) {
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    var params = Object.assign({ limit: PAGE_SIZE }, state.filters);
    if (!reset && state.cursor) params.cursor = state.cursor;
    more.disabled = true;
    $("gc-board-error").hidden = true;
    C.getJSON("/cases", params, controller.signal).then(function (body) {
      if (reset) rows.replaceChildren();
      (body.cases || []).forEach(function (c) { rows.append(row(c)); });
      state.cursor = body.next_cursor || null;
      more.hidden = !state.cursor;
      $("gc-board-empty").hidden = rows.children.length > 0;
    }).catch(function (err) {
      if (C.isAbort(err)) return;
      $("gc-board-error").textContent = C.fmt(S.loadFailed, { reason: C.reasonOf(err) });
      $("gc-board-error").hidden = false;
    }).finally(function () {
      if (state.controller === controller) state.controller = null;
      more.disabled = false;
    });
  }

  function apply() {
    state.filters = filtersFromForm();
    state.cursor = null;
    var query = new URLSearchParams(state.filters).toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    exportLinks(state.filters);
    fetchPage(true);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  more.addEventListener("click", function () { fetchPage(false); });

  C.getJSON("/case-categories", {}).then(function (categories) {
    var select = $("gc-f-category");
    categories.forEach(function (c) {
      var option = el("option", null, c.name);
      option.value = c.code;
      select.append(option);
    });
    var wanted = new URLSearchParams(window.location.search).get("category");
    if (wanted) select.value = wanted;
  }).catch(function () { /* the filter still works by code from the URL */ });

  formFromUrl();
  apply();
  window.gridmap = { state: state, isIdle: function () { return !state.controller; } };
})();
