/*
 * gridmap — monthly scorecards page (考核排名). Needs common.js and pickers.js.
 *
 * The month, an area picked by name (empty: all the reader may see) and a level tab ask
 * GET /api/scorecards/<level>; the table shows each column's value with its change against
 * last month (▲/▼, green when better, red when worse: for the reopen rate less is better) and,
 * for ranked columns, the unit's rank with the places gained or lost. The rows are ordered by
 * the chosen rate's rank. Column names and definitions come from the API, in the page's language.
 * The Excel workbook (every level) is built by a background job: the button starts it, the job
 * panel follows it (also one still under way when the page opens) and, once it is done, the
 * browser downloads /api/scorecards/workbooks/<id>.xlsx. Needs jobs.js too.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var S = G.strings;
  var C = G.config;
  var $ = function (id) { return document.getElementById(id); };
  var state = { level: C.defaultLevel || C.levels[0], body: null, asked: 0, pending: 0 };

  var J = window.GridmapJobs;
  var panel = new J.Panel("gs");

  var areaPicker = window.GridmapPickers.area($("gs-area"), {
    levels: ["district", "subdistrict", "community"],
    onPick: function () { problem(null); load(); },
  });

  function problem(text) {
    $("gs-area-problem").textContent = text || "";
    $("gs-area-problem").hidden = !text;
  }

  function params() {
    var unit = areaPicker.value();
    return { month: $("gs-month").value, area: unit ? unit.code : "" };
  }

  function percent(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }

  function figure(column, v) { return column.kind === "rate" ? percent(v) : (v === null ? "–" : String(v)); }

  /** ▲/▼ and how much, coloured by whether the change is good for this column. */
  function change(column, delta, value) {
    if (delta === null || delta === undefined || (delta === 0 && !value)) return null;
    var span = G.el("span", "gs-change");
    if (Math.abs(delta) < 1e-9) { span.textContent = "＝"; span.title = S.same; return span; }
    var up = delta > 0;
    var better = column.kind === "rate" && column.lower_is_better ? !up : up;
    var size = column.kind === "rate" ? (Math.abs(delta) * 100).toFixed(1) : String(Math.abs(delta));
    span.textContent = (up ? "▲" : "▼") + size;
    if (column.kind === "rate" || column.ranked) span.classList.add(better ? "gs-better" : "gs-worse");
    span.title = G.fmt(column.kind === "rate" ? (up ? S.pointsUp : S.pointsDown)
                                            : (up ? S.countUp : S.countDown), { value: size });
    return span;
  }

  function rankCell(row, key) {
    var td = G.el("td", "gs-num");
    var rank = row["rank_" + key];
    if (rank === null || rank === undefined) { td.textContent = "–"; td.title = S.unranked; return td; }
    td.append(String(rank));
    var gained = row["rank_change_" + key];
    if (gained) {
      var span = G.el("span", "gs-change " + (gained > 0 ? "gs-better" : "gs-worse"));
      span.textContent = (gained > 0 ? "▲" : "▼") + Math.abs(gained);
      span.title = G.fmt(gained > 0 ? S.placesUp : S.placesDown, { value: Math.abs(gained) });
      td.append(" ", span);
    }
    return td;
  }

  function header(columns) {
    var head = $("gs-head");
    head.replaceChildren(G.el("th", "gs-num", S.rank), G.el("th", "", S.name));
    columns.forEach(function (c) {
      var th = G.el("th", "gs-num", c.label);
      th.title = c.definition;
      head.append(th);
      if (c.ranked) head.append(G.el("th", "gs-num", c.label + " " + S.rank));
    });
  }

  function draw() {
    var body = state.body;
    if (!body) return;
    var key = $("gs-sort").value;
    var rows = body.rows.slice().sort(function (a, b) {
      var ra = a["rank_" + key], rb = b["rank_" + key];
      if (ra === rb) return a.code < b.code ? -1 : 1;
      if (ra === null) return 1;
      if (rb === null) return -1;
      return ra - rb;
    });
    header(body.columns);
    var tbody = $("gs-rows");
    tbody.replaceChildren();
    rows.forEach(function (row) {
      var tr = G.el("tr");
      var rank = row["rank_" + key];
      tr.append(G.el("td", "gs-num gs-rank", rank === null ? "–" : String(rank)));
      var name = G.el("th", "gs-name", row.name);
      name.scope = "row";
      name.title = row.code;
      tr.append(name);
      body.columns.forEach(function (c) {
        var td = G.el("td", "gs-num", figure(c, row[c.key]));
        var delta = change(c, row["change_" + c.key], row[c.key]);
        if (delta) td.append(" ", delta);
        tr.append(td);
        if (c.ranked) tr.append(rankCell(row, c.key));
      });
      tbody.append(tr);
    });
    $("gs-empty").hidden = rows.length > 0;
    $("gs-status").textContent = G.fmt(S.status, { month: body.month, previous: body.previous_month,
                                                   n: rows.length });
  }

  function definitions(columns) {
    var dl = $("gs-definitions");
    dl.replaceChildren();
    columns.forEach(function (c) { dl.append(G.el("dt", "", c.label), G.el("dd", "", c.definition)); });
    var sort = $("gs-sort");
    if (!sort.options.length) {
      columns.filter(function (c) { return c.ranked; }).forEach(function (c) {
        var option = G.el("option", "", c.label);
        option.value = c.key;
        sort.append(option);
      });
      sort.value = C.defaultSort;
    }
  }

  function downloads() {
    var p = params();
    $("gs-csv").href = G.apiUrl("/scorecards/" + state.level + ".csv", p);
  }

  function load() {
    var asked = ++state.asked;
    $("gs-error").hidden = true;
    document.querySelectorAll(".gs-tab").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.level === state.level));
    });
    downloads();
    state.pending += 1;
    G.getJSON("/scorecards/" + state.level, params()).then(function (body) {
      if (asked !== state.asked) return;
      state.body = body;
      definitions(body.columns);
      draw();
    }).catch(function (err) {
      if (asked !== state.asked) return;
      $("gs-error").textContent = G.fmt(S.loadFailed, { reason: G.reasonOf(err, "") });
      $("gs-error").hidden = false;
    }).finally(function () { state.pending -= 1; });
  }

  $("gs-month").value = C.defaultMonth;
  $("gs-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = areaPicker.problem();
    problem(text);
    if (!text) load();
  });
  /** Follow a workbook job; once it has succeeded, download the file. */
  function fetchWorkbook(job) {
    $("gs-xlsx").disabled = true;
    return panel.follow(job).then(function (last) {
      if (last && last.state === "succeeded") {
        window.location.assign(G.apiUrl("/scorecards/workbooks/" + last.id + ".xlsx").href);
      }
    }).finally(function () { $("gs-xlsx").disabled = false; });
  }

  $("gs-xlsx").addEventListener("click", function () {
    var p = params();
    var body = { month: p.month };
    if (p.area) body.area = p.area;
    $("gs-xlsx").disabled = true;
    J.start("/scorecards/workbooks", body).then(fetchWorkbook, function (error) {
      panel.say(G.fmt(S.workbookFailed, { reason: G.reasonOf(error, J.strings.networkError) }),
                "error");
      $("gs-xlsx").disabled = false;
    });
  });
  if (C.workbookJob && !C.workbookJob.finished) fetchWorkbook(C.workbookJob);
  $("gs-sort").addEventListener("change", draw);
  document.querySelectorAll(".gs-tab").forEach(function (tab) {
    tab.addEventListener("click", function () { state.level = tab.dataset.level; load(); });
  });
  load();
  // For the browser tests: idle once the last answer is drawn.
  window.gridmap = { isIdle: function () { return state.pending === 0 && Boolean(state.body); } };
})();
