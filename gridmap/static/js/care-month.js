/*
 * gridmap — a grid's month (本月走访清单与零报告), for the grid's worker and the staff over it.
 * The checklist comes from /api/care/grids/<grid>/months/<month> (names: a logged view); each
 * pending entry can be explained (/api/care/entries/<id>/explanations), an active one closed
 * (/close); the grid's worker files the zero report (/report) with an explicit answer to "new
 * difficulty found?", and a refusal (409: entries still pending) is shown as the server words
 * it, naming them. A new entry is added with /api/care/entries. Strings come from the template.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  if (!G.requireAccount()) return;
  var S = G.strings;
  var C = G.config;
  var $ = function (id) { return document.getElementById(id); };
  var month = new URLSearchParams(window.location.search).get("month") || C.month;

  /** An instant as Shenyang's wall-clock time (the API answers in UTC). */
  function cityTime(at) {
    return new Date(at).toLocaleString(C.lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  function post(path, body) {
    return G.request(path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) }).then(function (result) {
      if (!result.ok) throw G.errorFrom(result);
      return result.body;
    });
  }

  function result(box, text, kind) {
    box.textContent = text;
    box.className = "gc-care-result" + (kind ? " gc-" + kind : "");
  }

  function formWith(details, onSubmit) {
    var form = details.querySelector("form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = form.querySelector(".gc-care-result");
      var button = form.querySelector("button");
      button.disabled = true;
      onSubmit(form).then(function () { load(); }).catch(function (err) {
        result(box, G.fmt(S.saveFailed, { reason: G.reasonOf(err, "") }), "error");
      }).then(function () { button.disabled = false; });
    });
  }

  function entryNode(entry) {
    var node = $("gcm-entry").content.firstElementChild.cloneNode(true);
    node.dataset.entryId = String(entry.id);
    node.dataset.status = entry.status;
    node.querySelector(".gc-care-name").textContent = entry.name;
    var badge = node.querySelector(".gcm-badge");
    badge.textContent = S.statuses[entry.status] || entry.status;
    badge.className = "gcm-badge gcm-" + entry.status;
    node.querySelector(".gc-care-place").textContent =
      [entry.building_name, entry.unit, entry.household].filter(Boolean).join(" ");
    var detail = "";
    if (entry.status === "visited") detail = G.fmt(S.visitedOn, { at: cityTime(entry.visited_at) });
    if (entry.status === "explained") detail = G.fmt(S.explainedWhy, { reason: entry.explanation });
    if (entry.status === "closed") detail = G.fmt(S.closedWhy, { reason: entry.closed_reason });
    node.querySelector(".gcm-detail").textContent = detail;
    var explain = node.querySelector(".gcm-explain");
    explain.hidden = entry.status !== "pending";
    formWith(explain, function (form) {
      return post("/care/entries/" + entry.id + "/explanations", { month: month, reason: form.elements.reason.value });
    });
    var close = node.querySelector(".gcm-close");
    close.hidden = entry.status === "closed" || month !== C.thisMonth;
    formWith(close, function (form) {
      return post("/care/entries/" + entry.id + "/close", { reason: form.elements.reason.value });
    });
    return node;
  }

  function showReport(answer) {
    var report = answer.report;
    var state = $("gcm-report-state");
    var t = answer.totals;
    $("gcm-totals").textContent = G.fmt(S.totals, t);
    if (report) {
      state.textContent = G.fmt(S.reported, { at: cityTime(report.submitted_at),
        who: report.submitted_by }) + " " + (report.no_new_difficulty ? S.reportedNone : G.fmt(S.reportedFound, { note: report.note }));
      state.className = "gcm-filed";
    } else {
      state.textContent = G.fmt(S.notReported, { day: C.reportDueDay }) + (C.mayReport ? "" : " " + S.onlyWorker);
      state.className = "gcm-open";
    }
    $("gcm-report-form").hidden = Boolean(report) || !C.mayReport;
  }

  function load() {
    var status = $("gcm-status");
    status.textContent = S.loading;
    return G.getJSON("/care/grids/" + encodeURIComponent(C.grid) + "/months/" + encodeURIComponent(month))
      .then(function (answer) {
        var list = $("gcm-entries");
        list.replaceChildren();
        answer.entries.forEach(function (entry) { list.appendChild(entryNode(entry)); });
        showReport(answer);
        status.textContent = answer.entries.length ? "" : S.empty;
      }).catch(function (err) { status.textContent = G.fmt(S.loadFailed, { reason: G.reasonOf(err, "") }); });
  }

  $("gcm-report-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var box = $("gcm-report-result");
    var answer = form.elements.answer.value;
    if (!answer) { result(box, S.chooseAnswer, "error"); return; }
    if (answer === "found" && !form.elements.note.value.trim()) { result(box, S.describe, "error"); return; }
    var button = form.querySelector("button");
    button.disabled = true;
    post("/care/grids/" + encodeURIComponent(C.grid) + "/months/" + encodeURIComponent(month) + "/report",
      { no_new_difficulty: answer === "none", note: form.elements.note.value })
      .then(function () { result(box, S.filed); return load(); })
      .catch(function (err) { result(box, G.fmt(S.refused, { reason: G.reasonOf(err, "") }), "error"); })
      .then(function () { button.disabled = false; });
  });

  function addForm(reasons) {
    var box = $("gcm-reasons");
    reasons.forEach(function (r) {
      var input = G.el("input");
      input.type = "checkbox";
      input.name = "reasons";
      input.value = r.code;
      box.append(G.el("label", "gc-care-check", [input, " " + (C.lang === "en" ? r.name_en : r.name_zh)]));
    });
    var form = $("gcm-add-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var out = form.querySelector(".gc-care-result");
      var picked = Array.prototype.filter.call(form.elements.reasons, function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      if (!picked.length) { result(out, S.chooseReason, "error"); return; }
      var body = { reasons: picked };
      ["building_code", "name", "unit", "household", "phone", "carer", "note"].forEach(function (k) {
        body[k] = form.elements[k].value;
      });
      post("/care/entries", body).then(function () {
        form.reset();
        result(out, S.added);
        return load();
      }).catch(function (err) { result(out, G.fmt(S.saveFailed, { reason: G.reasonOf(err, "") }), "error"); });
    });
  }

  $("gcm-month").value = month;
  $("gcm-month").max = C.thisMonth;
  $("gcm-month-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var query = new URLSearchParams(window.location.search);
    query.set("month", $("gcm-month").value);
    window.location.search = query.toString();
  });
  G.getJSON("/care/reference").then(function (ref) { addForm(ref.reasons); });
  load();
})();
