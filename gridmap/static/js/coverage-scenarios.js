/* gridmap — saved what-if scenarios (方案).
 *
 * On the coverage page: after each what-if run (coverage.js dispatches "gridmap:whatif" with the
 * request it sent and the answer), a "保存方案" form in the what-if panel; saving POSTs the same
 * request with a name and note to /api/coverage/scenarios, which computes it again and stores it.
 * On the scenario pages: the compare picker of the list, the sites map of one scenario, print and
 * delete. The figures themselves are rendered by the server (coverage/scenario*.html).
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  if (!C) return;
  var $ = function (id) { return document.getElementById(id); };

  /** An element with properties (not HTML) and children (nodes or text). */
  function make(tag, props) {
    var node = Object.assign(document.createElement(tag), props || {});
    node.append.apply(node, Array.prototype.slice.call(arguments, 2));
    return node;
  }

  // ------------------------------------------------------------------ coverage page: save form
  function saveForm(box) {
    var S = JSON.parse(box.getAttribute("data-strings") || "{}");
    var last = null;
    var form = make("form", { className: "gsc-save", id: "gsc-save-form" });
    var name = make("input", { className: "gc-input", id: "gsc-save-name", name: "name", required: true,
      maxLength: Number(box.getAttribute("data-name-max")) || 80 });
    var note = make("textarea", { className: "gc-input", id: "gsc-save-note", name: "note", rows: 2,
      maxLength: Number(box.getAttribute("data-note-max")) || 2000 });
    var button = make("button", { type: "submit", className: "gc-button gc-button-primary", id: "gsc-save-button" },
      S.save);
    var status = make("span", { className: "gc-hint", id: "gsc-save-status", role: "status" });
    form.append(make("label", { className: "gc-filter" }, S.name, name),
      make("label", { className: "gc-filter" }, S.note, note),
      make("div", { className: "gsc-save-row" }, button, status));
    box.append(form);

    document.addEventListener("gridmap:whatif", function (event) {
      last = event.detail && event.detail.request ? event.detail.request : null;
      box.hidden = !last;
      status.replaceChildren();
      button.disabled = false;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!last) return;
      if (!name.value.trim()) { status.textContent = S.nameMissing; name.focus(); return; }
      button.disabled = true;
      status.textContent = S.saving;
      var body = Object.assign({}, last, { name: name.value.trim(), note: note.value.trim() });
      C.request("/coverage/scenarios", { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" } })
        .then(function (result) {
          if (!result.ok) throw C.errorFrom(result);
          var link = make("a", { href: result.body.page, id: "gsc-saved-link" }, S.open);
          status.replaceChildren(C.fmt(S.saved, { name: body.name }), " ", link, " · ",
            make("a", { href: box.getAttribute("data-list") }, S.list));
          name.value = "";
          note.value = "";
        })
        .catch(function (err) {
          status.textContent = C.fmt(S.failed, { reason: C.reasonOf(err) });
          button.disabled = false;
        });
    });
  }

  // ------------------------------------------------------------------ list: pick 2–3 to compare
  function picker(list) {
    var limits = C.config.compare || { min: 2, max: 3 };
    var button = $("gsc-compare");
    var hint = $("gsc-compare-hint");
    var S = C.S;
    function picked() {
      return Array.prototype.filter.call(list.querySelectorAll(".gsc-check"), function (c) { return c.checked; });
    }
    function update() {
      var chosen = picked();
      list.querySelectorAll(".gsc-item").forEach(function (item) {
        item.classList.toggle("gsc-picked", item.querySelector(".gsc-check").checked);
      });
      button.disabled = chosen.length < limits.min || chosen.length > limits.max;
      hint.textContent = chosen.length > limits.max ? C.fmt(S.tooMany, { n: limits.max })
        : chosen.length ? C.fmt(S.picked, { n: chosen.length }) : S.pickHint;
      $("gsc-compare-ids").value = chosen.map(function (c) { return c.value; }).join(",");
    }
    list.addEventListener("change", update);
    update();
  }

  // ------------------------------------------------------------------ one scenario: map, delete
  function scenarioPage(article) {
    var S = C.S;
    var sites = C.config.sites || { add: [], remove: [] };
    var handle = C.createMap("gsc-map", { zoom: 15 });
    var map = handle.map;
    var icon = function (kind, text) {
      return L.divIcon({ className: "gsc-marker gsc-marker-" + kind, html: "<span>" + text + "</span>",
        iconSize: [22, 22], iconAnchor: [11, 11] });
    };
    var points = [];
    sites.add.forEach(function (p) {
      points.push([p[1], p[0]]);
      L.marker([p[1], p[0]], { icon: icon("add", "+"), title: S.added }).bindTooltip(S.added).addTo(map);
    });
    sites.remove.forEach(function (f) {
      var label = C.fmt(S.removed, { name: f.name });
      points.push([f.lat, f.lon]);
      L.marker([f.lat, f.lon], { icon: icon("remove", "×"), title: label }).bindTooltip(label).addTo(map);
    });
    if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.6), { maxZoom: 15 });
    window.addEventListener("beforeprint", function () { map.invalidateSize(); });

    var del = $("gsc-delete");
    if (del) {
      del.addEventListener("click", function () {
        var name = $("gsc-name").textContent;
        if (!window.confirm(C.fmt(S.confirmDelete, { name: name }))) return;
        C.request("/coverage/scenarios/" + article.getAttribute("data-id"), { method: "DELETE" })
          .then(function (result) {
            if (!result.ok) throw C.errorFrom(result);
            window.location.assign(article.getAttribute("data-list"));
          })
          .catch(function (err) { $("gsc-status").textContent = C.fmt(S.deleteFailed, { reason: C.reasonOf(err) }); });
      });
    }
  }

  var box = $("gsc-save");
  if (box) saveForm(box);
  var list = $("gsc-list");
  if (list) picker(list);
  var article = $("gsc-scenario");
  if (article) scenarioPage(article);
  var print = $("gsc-print");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
