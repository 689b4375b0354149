/*
 * gridmap — visits (走访登记), the grid worker's phone page. Lists the residents in need of care
 * of the worker's grids (soonest due first) from /api/care/grids/<grid>/entries (a logged view),
 * and saves a visit with the phone's location when it gives one; "needs help" files a case in the
 * same step (the server does both in one transaction). Every string comes from the template.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  if (!G.requireAccount()) return;
  var S = G.strings;
  var $ = function (id) { return document.getElementById(id); };
  var list = $("gc-care-entries");
  var status = $("gc-care-status");
  var reasonNames = {};
  var categories = [];

  function nameOf(reason) {
    var found = reasonNames[reason];
    if (!found) return reason;
    return G.config.lang === "en" ? found.name_en : found.name_zh;
  }

  /** The phone's location, or null after a few seconds or a refusal (the visit is saved anyway). */
  function locate() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        resolve({ lon: pos.coords.longitude, lat: pos.coords.latitude });
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
    });
  }

  /** A random token per visit form: every try of one visit sends it, so a re-sent visit (a
   * phone's retry on a poor connection) finds the first one instead of making a second. */
  function newToken() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
  }

  function showResult(box, text, kind, caseId) {
    box.replaceChildren(text);
    box.className = "gc-care-result" + (kind ? " gc-" + kind : "");
    if (caseId) {
      var link = G.el("a", "gc-care-case", S.openCase.replace("{id}", String(caseId)));
      link.href = G.pageUrl("/cases/" + caseId);
      box.append(" ", link);
    }
  }

  function save(form, entry) {
    var box = form.querySelector(".gc-care-result");
    var button = form.querySelector("button");
    button.disabled = true;
    showResult(box, S.saving);
    locate().then(function (place) {
      var body = { findings: form.elements.findings.value, needs_help: form.elements.needs_help.checked,
                   client_token: form.dataset.token };
      if (body.needs_help) body.category = form.elements.category.value;
      if (place) { body.lon = place.lon; body.lat = place.lat; }
      return G.request("/care/entries/" + entry.id + "/visits", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      }).then(function (result) {
        if (!result.ok) throw G.errorFrom(result);
        var answer = result.body;
        var text = answer.case_id ? S.savedCase + " #" + answer.case_id : S.saved;
        if (!place) text += " " + S.noLocation;
        if (answer.far) {
          showResult(box, text + " " + S.far.replace("{m}", String(Math.round(answer.distance_m))), "warn",
            answer.case_id);
        } else {
          showResult(box, text, "", answer.case_id);
        }
        form.dataset.token = newToken();  // the next visit is a new one
        form.reset();
        form.querySelector(".gc-care-category").hidden = true;
      });
    }).catch(function (err) {
      showResult(box, S.saveFailed.replace("{reason}", G.reasonOf(err, S.loadFailed)), "error");
    }).then(function () { button.disabled = false; });
  }

  function card(entry) {
    var node = $("gc-care-entry").content.firstElementChild.cloneNode(true);
    node.dataset.entryId = String(entry.id);
    node.querySelector(".gc-care-name").textContent = entry.name;
    var due = node.querySelector(".gc-care-due");
    var overdue = new Date(entry.due_at) < new Date();
    due.textContent = overdue ? S.overdue : S.dueOn + " " + String(entry.due_at).slice(0, 10);
    due.classList.toggle("gc-overdue", overdue);
    node.querySelector(".gc-care-place").textContent =
      [entry.building_name, entry.unit, entry.household].filter(Boolean).join(" ");
    node.querySelector(".gc-care-reasons").textContent = entry.reasons.map(nameOf).join(S.listSeparator);
    var form = node.querySelector("form");
    form.dataset.token = newToken();
    var select = form.elements.category;
    categories.forEach(function (c) {
      var option = G.el("option", "", c.name);
      option.value = c.code;
      select.appendChild(option);
    });
    form.elements.needs_help.addEventListener("change", function () {
      node.querySelector(".gc-care-category").hidden = !form.elements.needs_help.checked;
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); save(form, entry); });
    return node;
  }

  function monthLinks(grids) {
    var box = $("gc-care-months");
    grids.forEach(function (grid) {
      var link = G.el("a", "gc-button", grids.length > 1 ? S.monthOf.replace("{grid}", grid) : S.month);
      link.href = G.pageUrl("/care/grids/" + grid + "/month");
      box.append(link);
    });
  }

  function load() {
    status.textContent = S.loading;
    var grids = G.config.grids || [];
    monthLinks(grids);
    Promise.all([G.getJSON("/care/reference"), G.getJSON("/case-categories")])
      .then(function (answers) {
        answers[0].reasons.forEach(function (r) { reasonNames[r.code] = r; });
        categories = answers[1];  // named in the page's language by the server
        return Promise.all(grids.map(function (grid) { return G.getJSON("/care/grids/" + grid + "/entries"); }));
      }).then(function (registers) {
        var entries = [];
        registers.forEach(function (r) { entries = entries.concat(r.entries); });
        entries.sort(function (a, b) { return String(a.due_at).localeCompare(String(b.due_at)); });
        entries.forEach(function (entry) { list.appendChild(card(entry)); });
        status.textContent = entries.length ? "" : S.empty;
      }).catch(function (err) { status.textContent = G.reasonOf(err, S.loadFailed); });
  }

  load();
})();
