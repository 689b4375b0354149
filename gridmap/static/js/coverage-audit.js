/*
 * gridmap — GB 50180 audit (审计). Reads /api/coverage/audit for a level, area prefix and share
 * threshold and draws one row per community (or grid) with one cell per required facility type ×
 * life circle: covered ✓, gap ✗, not computed –, no residents ·, with the residents' share.
 * Planners, data officers and administrators compute every rule from here ("计算全部"): a
 * background job whose progress bar every reader sees, also after a reload.
 * All user-visible text comes from the page (#gm-page-config, #gm-case-strings).
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  var S = C.S;
  var el = C.el;
  var $ = function (id) { return document.getElementById(id); };
  var config = C.config;
  var MARKS = { covered: "✓", gap: "✗", not_computed: "–", no_residents: "·" };
  var pending = 0;
  window.gridmap = { isIdle: function () { return pending === 0; } };

  var typeNames = {};
  config.types.forEach(function (t) { typeNames[t.code] = t.name; });
  var circleNames = {};
  config.circles.forEach(function (c) { circleNames[c.code] = c.name; });
  var statusText = { covered: S.covered, gap: S.gap, not_computed: S.notComputed, no_residents: S.noResidents };

  // The area is picked by name (pickers.js); the query carries its code.
  var areaPicker = window.GridmapPickers.area($("gca-area"), {
    levels: ["district", "subdistrict", "community"],
    onPick: function () { areaProblem(null); },
  });

  function areaProblem(text) {
    $("gca-area-problem").textContent = text || "";
    $("gca-area-problem").hidden = !text;
    if (text) $("gca-area").setAttribute("aria-invalid", "true");
    else $("gca-area").removeAttribute("aria-invalid");
  }

  function query() {
    var unit = areaPicker.value();
    return { level: $("gca-level").value, area: unit ? unit.code : "", min_share: $("gca-share").value };
  }

  function pairKey(type, circle) { return type + "|" + circle; }

  var missing = {};
  config.missing.forEach(function (m) { missing[pairKey(m.facility_type, m.circle)] = true; });

  function header() {
    var top = [el("th", "", S.area)];
    config.pairs.forEach(function (p) {
      var th = el("th", "gca-pair", [el("span", "gca-circle", circleNames[p.circle] || p.circle),
        el("span", "", typeNames[p.type] || p.type)]);
      th.dataset.pair = pairKey(p.type, p.circle);
      if (missing[th.dataset.pair]) { th.classList.add("gca-pair-missing"); th.title = S.notComputedTip; }
      top.push(th);
    });
    $("gca-table").tHead.replaceChildren(el("tr", "", top));
  }

  function cell(row) {
    if (!row) {
      var empty = el("td", "gca-cell gca-not_computed", MARKS.not_computed);
      empty.title = S.notComputedTip;
      empty.dataset.status = "not_computed";
      return empty;
    }
    var share = row.residents_share === null ? "" : Math.round(row.residents_share * 100) + "%";
    var td = el("td", "gca-cell gca-" + row.status, [el("span", "gca-mark", MARKS[row.status]),
      share ? el("span", "gca-share", share) : null]);
    td.title = statusText[row.status] + " · " + C.fmt(S.cellTip, { type: typeNames[row.facility_type] || row.facility_type,
      circle: circleNames[row.circle] || row.circle, covered: row.residents_covered, residents: row.residents });
    td.dataset.status = row.status;
    return td;
  }

  function draw(body) {
    var areas = [];
    var byCode = {};
    body.rows.forEach(function (row) {
      if (!byCode[row.code]) { byCode[row.code] = { code: row.code, name: row.name, cells: {} }; areas.push(byCode[row.code]); }
      byCode[row.code].cells[pairKey(row.facility_type, row.circle)] = row;
    });
    // An area fails on a gap; a requirement never computed leaves it unknown, not failed.
    var counts = { gaps: 0, full: 0, failing: 0, unknown: 0, unknownCells: 0 };
    var rows = areas.map(function (area) {
      var tds = [el("td", "gca-name", [el("span", "", area.name), el("span", "gca-code", area.code)])];
      var verdict = "full";
      config.pairs.forEach(function (p) {
        var row = area.cells[pairKey(p.type, p.circle)];
        if (row && row.status === "gap") { counts.gaps += 1; verdict = "failing"; }
        if (!row || row.status === "not_computed") {
          counts.unknownCells += 1;
          if (verdict === "full") verdict = "unknown";
        }
        tds.push(cell(row));
      });
      counts[verdict] += 1;
      var tr = el("tr", "gca-row gca-row-" + verdict, tds);
      tr.dataset.code = area.code;
      tr.dataset.verdict = verdict;
      tds[0].appendChild(el("span", "gca-verdict gca-verdict-" + verdict, S.verdict[verdict]));
      return tr;
    });
    $("gca-table").tBodies[0].replaceChildren.apply($("gca-table").tBodies[0], rows);
    $("gca-summary").textContent = C.fmt(S.summary, { n: areas.length, gaps: counts.gaps, full: counts.full,
      failing: counts.failing, unknown: counts.unknown });
    $("gca-summary").dataset.unknown = counts.unknown ? "1" : "";
    showMissing(body.missing);
  }

  function showMissing(missing) {
    var names = missing.map(function (m) {
      return (circleNames[m.circle] || m.circle) + " " + (typeNames[m.facility_type] || m.facility_type);
    });
    $("gca-missing").hidden = !missing.length;
    $("gca-missing").textContent = C.fmt(config.may_compute ? S.missing : S.missingAsk,
      { n: missing.length, pairs: names.join("、") });
  }

  // ------------------------------------------------------------------ computing every rule

  var Jobs = window.GridmapJobs;
  var panel = new Jobs.Panel("gca");
  var computeAll = $("gca-compute-all");

  function follow(job) {
    if (computeAll) computeAll.disabled = true;
    pending += 1;
    panel.follow(job).then(function (done) {
      if (computeAll) computeAll.disabled = false;
      if (done && done.state === "succeeded" && done.result && done.kind === "coverage.compute_all") {
        panel.say(C.fmt(S.computed, { computed: done.result.computed, kept: done.result.kept }), "ok");
      }
      if (done && done.state === "succeeded") { load(); showStale(); }
    }).finally(function () { pending -= 1; });
  }

  if (computeAll) {
    computeAll.addEventListener("click", function () {
      computeAll.disabled = true;
      panel.say("");
      Jobs.start("/coverage/jobs", { all: true }).then(follow, function (err) {
        computeAll.disabled = false;
        panel.say(C.fmt(S.computeFailed, { reason: C.reasonOf(err) }), "error");
      });
    });
  }

  // Results whose data changed after they were computed (streets, buildings, facilities).
  function showStale() {
    pending += 1;
    C.getJSON("/coverage/runs", {}).then(function (body) {
      var required = {};
      config.pairs.forEach(function (p) { required[pairKey(p.type, p.circle)] = true; });
      var stale = body.runs.filter(function (r) { return r.stale.length && required[pairKey(r.facility_type, r.circle)]; });
      $("gca-stale").hidden = !stale.length;
      $("gca-stale").textContent = C.fmt(S.stale, { n: stale.length, pairs: stale.map(function (r) {
        return (circleNames[r.circle] || r.circle) + " " + (typeNames[r.facility_type] || r.facility_type);
      }).join("、") });
    }).catch(function () { /* the table is what matters */ }).finally(function () { pending -= 1; });
  }
  showStale();

  // A compute under way (started here before a reload, or by someone else): follow it.
  pending += 1;
  C.getJSON("/coverage/jobs", { active: 1 }).then(function (body) {
    var running = body.jobs.filter(function (j) { return j.kind === "coverage.compute_all"; })[0] || body.jobs[0];
    if (running) follow(running);
  }).catch(function () { /* the table still loads; the bar is a bonus */ }).finally(function () { pending -= 1; });

  function load() {
    var q = query();
    $("gca-x-csv").href = C.apiUrl("/coverage/audit.csv", q).toString();
    $("gca-x-geojson").href = C.apiUrl("/coverage/audit.geojson", q).toString();
    var url = new URL(window.location.href);
    Object.keys(q).forEach(function (k) { if (q[k]) url.searchParams.set(k, q[k]); else url.searchParams.delete(k); });
    window.history.replaceState(null, "", url);
    pending += 1;
    $("gca-summary").textContent = S.loading;
    C.getJSON("/coverage/audit", q).then(draw).catch(function (err) {
      $("gca-summary").textContent = C.fmt(S.loadFailed, { reason: C.reasonOf(err) });
      $("gca-summary").dataset.kind = "error";
    }).finally(function () { pending -= 1; });
  }

  var params = new URLSearchParams(window.location.search);
  if (params.get("level") === "grid") $("gca-level").value = "grid";
  if (params.get("min_share")) $("gca-share").value = params.get("min_share");
  showMissing(config.missing);
  header();
  $("gca-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var problem = areaPicker.problem();
    areaProblem(problem);
    if (problem) return;  // said under the field (role=alert); the name list closes on blur
    delete $("gca-summary").dataset.kind;
    load();
  });
  // A link may name the area by code: show its name, or say that there is no such area.
  // (else the reader's own area, where a district account's audit starts).
  var linked = params.get("area") || config.area;
  if (!linked) load();
  else {
    pending += 1;
    areaPicker.set(linked).then(function (unit) {
      if (!unit) areaProblem(C.fmt(S.unknownArea, { code: linked }));
      else load();
    }).catch(function () { areaProblem(C.fmt(S.unknownArea, { code: linked })); })
      .finally(function () { pending -= 1; });
  }
})();
