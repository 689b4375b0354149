/*
 * Mediation (评理说事) for staff: points on a map and in a list with their counts
 * (/api/mediation/points), a point's disputes, one dispute with its parties, sessions and
 * history, and the forms that accept a dispute and take its steps. Parties arrive masked
 * unless the server lets this reader see them; the page never decides who may.
 */
(function () {
  "use strict";
  var G = window.Gridmap;
  var S = G.strings;
  if (!G.requireAccount()) return;

  var $ = function (id) { return document.getElementById(id); };
  var state = { points: [], point: null, dispute: null, markers: {}, map: null };
  var locale = G.config.lang === "en" ? "en" : "zh-CN";

  function say(text) { $("gmd-status").textContent = text || ""; $("gmd-status").hidden = !text; }
  function fail(err) {
    $("gmd-error").textContent = G.reasonOf(err, S.networkError);
    $("gmd-error").hidden = false;
  }
  function clearError() { $("gmd-error").hidden = true; }
  function day(value) { return value ? new Date(value).toLocaleDateString(locale) : "—"; }
  function list(text) {
    return String(text || "").split(/[,，、]/).map(function (s) { return s.trim(); })
      .filter(Boolean);
  }

  function post(path, body) {
    return G.request(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }).then(function (result) {
      if (!result.ok) throw G.errorFrom(result);
      return result.body;
    });
  }

  // ------------------------------------------------------------------ points: map and list

  function drawMap() {
    if (!state.map) {
      state.map = L.map("gmd-map", { minZoom: 3, maxZoom: 19, center: [41.80, 123.43], zoom: 12 });
      if (G.config.tileUrl) {
        L.tileLayer(G.config.tileUrl, { attribution: G.config.tileAttribution, maxZoom: 19 })
          .addTo(state.map);
      }
      // The communities and sub-districts under the points, so a point has its place (there is
      // no base map offline); drawn once, below the points, not clickable.
      state.map.createPane("gmd-outlines").style.zIndex = "350";
      state.outlines = [["subdistricts", { color: "#5b6072", weight: 2, fill: false }],
        ["communities", { color: "#8a8fa3", weight: 1, dashArray: "4 4", fill: false }]]
        .map(function (spec) {
          return { name: spec[0], layer: L.geoJSON(null, { pane: "gmd-outlines",
            interactive: false, style: spec[1] }).addTo(state.map) };
        });
    }
    var bounds = [];
    state.points.forEach(function (p) {
      var radius = { community: 7, subdistrict: 10, district: 13 }[p.level];
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: radius, weight: 2, color: "#6a4c93", fillOpacity: p.open ? 0.75 : 0.25,
      }).addTo(state.map);
      marker.bindTooltip(p.name + " · " + S.levels[p.level] + " · " + p.open);
      marker.on("click", function () { choosePoint(p.id); });
      state.markers[p.id] = marker;
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) state.map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
    drawOutlines();
  }

  function drawOutlines() {
    var b = state.map.getBounds().pad(0.2);
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return v.toFixed(6);
    }).join(",");
    state.outlines.forEach(function (o) {
      G.getJSON("/layers/" + o.name + ".geojson", { bbox: box, zoom: state.map.getZoom() })
        .then(function (collection) { o.layer.clearLayers(); o.layer.addData(collection); })
        .catch(function () { /* the outlines are context: the points and list work without */ });
    });
  }

  function drawPoints() {
    $("gmd-point-rows").replaceChildren.apply($("gmd-point-rows"), state.points.map(function (p) {
      var name = G.el("button", "gmd-link gmd-point-link", p.name);
      name.type = "button";
      name.addEventListener("click", function () { choosePoint(p.id); });
      var row = G.el("tr", "gmd-level-" + p.level, [
        G.el("td", "", name), G.el("td", "", S.levels[p.level]), G.el("td", "gmd-n", String(p.open)),
        G.el("td", "gmd-n", String(p.month.received)), G.el("td", "gmd-n", String(p.month.agreed)),
        G.el("td", "gmd-n", String(p.year.received)), G.el("td", "gmd-n", String(p.year.agreed)),
        G.el("td", "gmd-n", String(p.year.referred_up)),
        G.el("td", "gmd-n", String(p.year.referred_to_court)),
      ]);
      row.dataset.point = String(p.id);
      return row;
    }));
  }

  /** ?area=<district, sub-district or community code> shows that area's points (a link from
   * elsewhere, or another area than one's own); the server checks the code. */
  function areaParams() {
    var area = new URLSearchParams(window.location.search).get("area") || "";
    var level = { 6: "district", 9: "subdistrict", 12: "community" }[area.length];
    var params = {};
    if (level && /^[0-9]+$/.test(area)) params[level] = area;
    return params;
  }

  function loadPoints() {
    var params = areaParams();
    return G.getJSON("/mediation/points", params).then(function (body) {
      state.points = body.points;
      drawPoints();
      drawMap();
      say(G.fmt(S.loaded, { n: body.points.length }) + " · " + S.pickPoint);
      var wanted = body.points.filter(function (p) { return p.area_code === body.area; })[0];
      var own = wanted || body.points.filter(function (p) { return p.staff; })[0] || body.points[0];
      if (own && !state.point) choosePoint(own.id);
      // ?case=<id>: a case sent here to become a dispute (转评理说事) fills the form's case.
      var fromCase = new URLSearchParams(window.location.search).get("case");
      if (fromCase && /^[0-9]{1,19}$/.test(fromCase) && state.point && state.point.staff) {
        $("gmd-new-form").elements.case_id.value = fromCase;
        openNewForm();
      }
    }).catch(fail);
  }

  /** After a write: the point's list and every count again (the map keeps its view). */
  function refresh() {
    loadDisputes();
    G.getJSON("/mediation/points", areaParams()).then(function (body) {
      state.points = body.points;
      drawPoints();
      var chosen = document.querySelector("#gmd-point-rows tr[data-point='" + state.point.id + "']");
      if (chosen) chosen.classList.add("gmd-chosen");
    }).catch(fail);
  }

  // ------------------------------------------------------------------ a point's disputes

  function partyText(p) {
    return [S.roles[p.role], p.name, p.phone, p.address].filter(Boolean).join(" · ");
  }

  function choosePoint(id) {
    state.point = state.points.filter(function (p) { return p.id === id; })[0] || null;
    if (!state.point) return;
    document.querySelectorAll("#gmd-point-rows tr").forEach(function (tr) {
      tr.classList.toggle("gmd-chosen", tr.dataset.point === String(id));
    });
    $("gmd-point").hidden = false;
    $("gmd-point-name").textContent = state.point.name;
    $("gmd-new").hidden = !state.point.staff;
    $("gmd-community-field").hidden = state.point.level === "community";
    $("gmd-new-form").hidden = true;
    loadDisputes();
  }

  function loadDisputes() {
    clearError();
    G.getJSON("/mediation/points/" + state.point.id + "/disputes", { state: $("gmd-state").value })
      .then(function (body) {
        var items = body.disputes.map(function (d) {
          var link = G.el("button", "gmd-link", G.fmt(S.disputeTitle, {
            id: d.id, kind: S.kinds[d.kind] || d.kind }));
          link.type = "button";
          link.addEventListener("click", function () { openDispute(d.id); });
          var li = G.el("li", "gmd-dispute gmd-state-" + d.state, [
            link, G.el("span", "gmd-badge", S.states[d.state]),
            G.el("span", "gc-muted", d.community_name + " · " + day(d.created_at)),
            G.el("span", "gmd-parties-line", d.parties.map(partyText).join("；")),
          ]);
          li.dataset.dispute = String(d.id);
          return li;
        });
        $("gmd-disputes").replaceChildren.apply($("gmd-disputes"),
          items.length ? items : [G.el("li", "gc-muted", S.noDisputes)]);
      }).catch(fail);
  }

  // ------------------------------------------------------------------ one dispute

  function openDispute(id) {
    clearError();
    G.getJSON("/mediation/disputes/" + id).then(function (d) {
      state.dispute = d;
      $("gmd-dispute").hidden = false;
      $("gmd-dispute-title").textContent = G.fmt(S.disputeTitle, { id: d.id, kind: S.kinds[d.kind] || d.kind });
      var facts = [G.fmt(S.facts, { state: S.states[d.state], point: d.point_name,
                                    community: d.community_code, accepted: day(d.accepted_at) })];
      if (d.referred_from) facts.push(G.fmt(S.referredFrom, { id: d.referred_from }));
      if (d.referred_to) facts.push(G.fmt(S.referredTo, { id: d.referred_to }));
      var caseLink = null;
      if (d.case_id) {
        caseLink = G.el("a", "", G.fmt(S.fromCase, { id: d.case_id }));
        caseLink.href = G.pageUrl("/cases/" + d.case_id);
      }
      $("gmd-dispute-facts").replaceChildren(facts.join(" · "), caseLink ? " · " : "",
                                              caseLink || "");
      $("gmd-masked").hidden = !d.masked;
      $("gmd-summary").textContent = d.summary === null ? S.hidden : d.summary +
        (d.outcome_note ? " — " + d.outcome_note : "");
      $("gmd-parties").replaceChildren.apply($("gmd-parties"), d.parties.map(function (p) {
        return G.el("li", p.masked ? "gmd-party-masked" : "", partyText(p));
      }));
      var sessions = d.sessions.map(function (s) {
        return G.el("li", "", [G.fmt(S.sessionLine, { day: day(s.held_on), mediators: s.mediators.join("、") }),
                               s.note ? G.el("div", "gc-muted", s.note) : null]);
      });
      $("gmd-sessions").replaceChildren.apply($("gmd-sessions"),
        sessions.length ? sessions : [G.el("li", "gc-muted", S.noSessions)]);
      $("gmd-events").replaceChildren.apply($("gmd-events"), d.events.map(function (e) {
        return G.el("li", "", [
          G.el("time", "gc-time", new Date(e.created_at).toLocaleString(locale)), " ",
          [S.actions[e.action] || e.action,
           S.states[e.to_state] === S.actions[e.action] ? "" : "→ " + S.states[e.to_state],
           "· " + e.actor].filter(Boolean).join(" "),
          e.note ? G.el("div", "gc-muted", e.note) : null]);
      }));
      drawActions(d.actions);
      $("gmd-dispute").scrollIntoView({ block: "nearest" });
    }).catch(fail);
  }

  function drawActions(actions) {
    var form = $("gmd-step");
    form.hidden = !actions.length;
    $("gmd-actions").replaceChildren.apply($("gmd-actions"), actions.map(function (a, i) {
      var input = G.el("input");
      input.type = "radio"; input.name = "action"; input.value = a; input.checked = i === 0;
      input.addEventListener("change", showFields);
      return G.el("label", "gc-choice", [input, " ", S.actions[a]]);
    }));
    form.elements.held_on.value = new Date().toISOString().slice(0, 10);
    showFields();
  }

  function chosenAction() {
    var checked = document.querySelector("#gmd-actions input:checked");
    return checked ? checked.value : "";
  }

  function showFields() {
    var action = chosenAction();
    document.querySelectorAll(".gmd-for-session").forEach(function (n) { n.hidden = action !== "session"; });
    $("gmd-note-label").firstChild.textContent = S.notes[action] || "";
  }

  $("gmd-step").addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    var f = event.target.elements;
    var action = chosenAction();
    var body = { action: action, note: f.note.value, mediators: list(f.mediators.value) };
    if (action === "session") { body.held_on = f.held_on.value; body.present = list(f.present.value); }
    post("/mediation/disputes/" + state.dispute.id + "/steps", body).then(function () {
      event.target.reset();
      say(S.saved);
      openDispute(state.dispute.id);
      refresh();
    }).catch(fail);
  });

  // ------------------------------------------------------------------ accept a new dispute

  function openNewForm() {
    $("gmd-new-form").hidden = false;
    $("gmd-new-form").elements.summary.focus();
  }
  $("gmd-new").addEventListener("click", openNewForm);
  $("gmd-new-cancel").addEventListener("click", function () { $("gmd-new-form").hidden = true; });
  $("gmd-new-form").addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    var form = event.target;
    var all = function (name) {
      return Array.prototype.map.call(form.querySelectorAll("[name=" + name + "]"),
                                      function (n) { return n.value; });
    };
    var body = { kind: form.elements.kind.value, summary: form.elements.summary.value,
                 party_role: all("party_role"), party_name: all("party_name"),
                 party_phone: all("party_phone"), party_address: all("party_address"),
                 community: form.elements.community.value,
                 mediators: list(form.elements.mediators.value) };
    if (form.elements.case_id.value) body.case_id = form.elements.case_id.value;
    post("/mediation/points/" + state.point.id + "/disputes", body).then(function (made) {
      form.reset();
      form.hidden = true;
      say(G.fmt(S.accepted, { id: made.id }));
      refresh();
      openDispute(made.id);
    }).catch(fail);
  });

  // ------------------------------------------------------------------ start

  Array.prototype.forEach.call($("gmd-state").options, function (o) {
    if (o.value) o.textContent = S.states[o.value];
  });
  Array.prototype.forEach.call($("gmd-new-form").elements.kind.options, function (o) {
    o.textContent = S.kinds[o.value];
  });
  $("gmd-state").addEventListener("change", loadDisputes);
  loadPoints();
})();
