/*
 * gridmap — case board (案件看板). The server orders the cases (overdue first), searches and pages
 * them by keyset (`next_cursor`); this page only turns the filter form into query parameters,
 * appends pages (as a table on wide screens and as cards on phones: CSS shows one of them), and
 * builds the CSV / GeoJSON export links for the same filters. Area and department are picked by
 * name (js/pickers.js). The filters live in the page's URL, so a filtered board can be bookmarked
 * and shared.
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
  var cards = $("gc-board-cards");
  // A pick filters at once; so does emptying a picker (typing over a pick waits for the next pick).
  var onPick = function () { if (!problems().length) apply(); };
  var areaPicker = window.GridmapPickers.area($("gc-f-area"), { onPick: onPick });
  var departmentPicker = window.GridmapPickers.department($("gc-f-department"), { onPick: onPick });
  var FLAGS = ["overdue", "my_grid", "my_cases"];
  var more = $("gc-load-more");
  var state = { cursor: null, controller: null, filters: {}, started: false };

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
    ["q", "category", "from", "to"].forEach(function (key) {
      var value = String(data.get(key) || "").trim();
      if (value) out[key] = value;
    });
    var area = areaPicker.value();
    if (area) out[area.level] = area.code;
    var department = departmentPicker.value();
    if (department) out.department = department.code;
    FLAGS.forEach(function (key) { if (data.get(key)) out[key] = "1"; });
    return out;
  }

  /** Fill the form from the page's URL (the same parameter names as the API). */
  function formFromUrl() {
    var params = new URLSearchParams(window.location.search);
    var states = (params.get("state") || "").split(",");
    form.querySelectorAll("input[name=state]").forEach(function (box) { box.checked = states.indexOf(box.value) >= 0; });
    ["q", "category", "from", "to"].forEach(function (key) {
      if (params.get(key)) form.elements[key].value = params.get(key);
    });
    var area = C.AREA_LEVELS.slice().reverse().map(function (k) { return params.get(k); }).find(Boolean);
    FLAGS.forEach(function (key) { if (form.elements[key]) form.elements[key].checked = params.get(key) === "1"; });
    // The pickers show names; the URL keeps codes. Until a name is found the code filters anyway.
    return Promise.all([areaPicker.set(area || null), departmentPicker.set(params.get("department") || null)])
      .catch(function () { return null; });
  }

  /** How many of the folded filters are set (shown on the phone's "more filters" button). */
  function foldedCount(filters) {
    return ["state", "category", "department", "from", "to"].concat(C.AREA_LEVELS)
      .filter(function (key) { return filters[key]; }).length;
  }

  /** The messages of filters that are not valid yet (a typed name not picked from its list). */
  function problems() {
    return [areaPicker.problem(), departmentPicker.problem()].filter(Boolean);
  }

  function exportLinks(filters) {
    $("gc-export-csv").href = C.apiUrl("/cases.csv", filters).toString();
    $("gc-export-geojson").href = C.apiUrl("/cases.geojson", filters).toString();
  }

  /** The case's grid by name (its community's name before it), the code in the tooltip. */
  function gridName(c) {
    if (!c.grid_name) return el("code", "gc-code", c.grid_code);
    var name = el("span", "gc-grid-name", (c.community_name ? c.community_name + " · " : "") + c.grid_name);
    name.title = c.grid_code;
    return name;
  }

  /** Who holds the case: its department, the grid itself, or nobody yet (not dispatched). */
  function owner(c) {
    return c.owner_department_name || (c.owner_kind === "grid" ? S.keptByGrid : S.undispatched);
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
      el("td", null, gridName(c)),
      el("td", null, owner(c)),
      el("td", "gc-nowrap", C.localTime(c.created_at)),
      el("td", "gc-nowrap", [C.localTime(c.resolve_by), " ", due]),
    ]);
    tr.dataset.caseId = String(c.id);
    return tr;
  }

  /** The phone's card of a case: the whole head is one link at least 44 px tall. */
  function card(c) {
    var due = c.overdue ? C.dueBadge("overdue") : c.soon_due ? C.dueBadge("soon_due") : null;
    var link = el("a", "gc-card-link", [el("strong", null, "#" + c.id), " ", c.category_name || c.category]);
    link.href = C.pageUrl("/cases/" + c.id);
    var li = el("li", "gc-case-card" + (c.overdue ? " gc-row-overdue" : c.soon_due ? " gc-row-soon" : ""), [
      el("div", "gc-case-card-head", [link, C.stateBadge(c.state)]),
      el("p", "gc-case-card-text", c.description),
      el("p", "gc-case-card-meta", [S.grid + " ", gridName(c), " · ", owner(c)]),
      el("p", "gc-case-card-meta", [S.created + " " + C.localTime(c.created_at), " · ",
        S.due + " " + C.localTime(c.resolve_by), " ", due]),
    ]);
    li.dataset.caseId = String(c.id);
    return li;
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
      if (reset) { rows.replaceChildren(); cards.replaceChildren(); }
      (body.cases || []).forEach(function (c) { rows.append(row(c)); cards.append(card(c)); });
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
    var wrong = problems();
    if (wrong.length) {
      $("gc-board-error").textContent = wrong.join(" ");
      $("gc-board-error").hidden = false;
      return;
    }
    state.filters = filtersFromForm();
    var count = foldedCount(state.filters);
    $("gc-filters-count").textContent = count ? " (" + count + ")" : "";
    state.cursor = null;
    var query = new URLSearchParams(state.filters).toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    exportLinks(state.filters);
    fetchPage(true);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("reset", function () {
    areaPicker.clear();
    departmentPicker.clear();
    setTimeout(apply, 0);
  });
  // Quick filters act at once; the folded filters on phones open and close with their button.
  FLAGS.forEach(function (key) { if (form.elements[key]) form.elements[key].addEventListener("change", apply); });
  $("gc-filters-toggle").addEventListener("click", function () {
    var open = $("gc-more-filters").classList.toggle("is-open");
    $("gc-filters-toggle").setAttribute("aria-expanded", String(open));
  });
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

  formFromUrl().then(function () { state.started = true; apply(); });
  window.gridmap = { state: state, isIdle: function () { return state.started && !state.controller; } };
})();
