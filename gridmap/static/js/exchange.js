/*
 * gridmap — 数据 page: import a layer (a dry run first, then the import, both background jobs)
 * and export one. The server does every check; this page sends the form, follows the job and
 * shows its report: counts of what would change, the field mapping (changeable), the problems
 * in a table and on a map. All user-visible text comes from the page.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var S = G.strings;
  var config = G.config;
  var el = G.el;
  var $ = function (id) { return document.getElementById(id); };
  var Jobs = window.GridmapJobs;
  var panel = new Jobs.Panel("gdx");
  var pending = 0;
  var state = { upload: null, result: null, map: null, layer: null };
  window.gridmap = { isIdle: function () { return pending === 0; } };

  var lang = config.lang === "en" ? "en" : "zh";
  config.layers.forEach(function (l) {
    var option = el("option", "", lang === "en" ? l.label_en : l.label_zh + " " + l.name);
    option.value = l.name;
    $("gdx-layer").appendChild(option);
  });
  config.exportLayers.forEach(function (name) {
    var option = el("option", "", name);
    option.value = name;
    $("gdx-x-layer").appendChild(option);
  });

  function layerSpec(name) { return config.layers.filter(function (l) { return l.name === name; })[0]; }

  function formData(dryRun, withFile) {
    var data = new FormData();
    ["layer", "crs", "encoding", "mode", "source", "licence"].forEach(function (name) {
      data.append(name, $("gdx-" + name).value);
    });
    data.append("repair", $("gdx-repair").checked ? "1" : "0");
    data.append("dry_run", dryRun ? "1" : "0");
    data.append("mapping", JSON.stringify(currentMapping()));
    if (withFile) data.append("file", $("gdx-file").files[0]);
    else if (state.upload) { data.append("upload", state.upload.token); data.append("upload_name", state.upload.name); }
    return data;
  }

  function currentMapping() {
    var out = {};
    if (!state.result || state.layer !== $("gdx-layer").value) return out;
    Array.prototype.forEach.call($("gdx-mapping").querySelectorAll("select"), function (select) {
      if (select.value) out[select.name] = select.value;
    });
    return out;
  }

  function start(dryRun, withFile) {
    pending += 1;
    panel.say("");
    $("gdx-check").disabled = true;
    $("gdx-run").hidden = true;
    return G.request("/imports", { method: "POST", body: formData(dryRun, withFile) }).then(function (result) {
      if (!result.ok) throw G.errorFrom(result);
      state.upload = result.body.upload;
      state.layer = $("gdx-layer").value;
      return panel.follow(result.body.job);
    }).then(function (job) {
      if (job && job.state === "succeeded") show(job); else if (job && job.state === "failed") $("gdx-result").hidden = true;
    }).catch(function (err) {
      panel.say(G.fmt(S.startFailed, { reason: G.reasonOf(err, S.networkError) }), "error");
    }).finally(function () { $("gdx-check").disabled = false; pending -= 1; });
  }

  function show(job) {
    var r = job.result;
    state.result = r;
    var errors = r.problem_list.filter(function (p) { return p.severity === "error"; }).length;
    $("gdx-result").hidden = false;
    $("gdx-summary").textContent = G.fmt(S.summary, { file: r.file, features: r.features, crs: r.crs,
      errors: errors, notes: r.problem_list.length - errors });
    var changes = r.changes || {};
    $("gdx-changes").hidden = Boolean(r.rejected);
    ["added", "changed", "removed", "unchanged"].forEach(function (k) {
      $("gdx-" + k).textContent = changes[k] === undefined ? "–" : String(changes[k]);
    });
    panel.say(r.rejected ? S.rejected : r.dry_run ? S.checked : G.fmt(S.imported, { id: r.import_id }),
      r.rejected ? "error" : "ok");
    $("gdx-run").hidden = Boolean(r.rejected) || !r.dry_run;
    $("gdx-report-csv").href = G.apiUrl("/imports/" + job.id + "/report.csv").toString();
    $("gdx-report-geojson").href = G.apiUrl("/imports/" + job.id + "/report.geojson").toString();
    drawMapping(r);
    drawProblems(r);
  }

  function drawMapping(r) {
    var spec = layerSpec(r.layer);
    $("gdx-mapping-box").hidden = !spec.fields.length;
    $("gdx-recheck").hidden = !spec.fields.length;
    var rows = spec.fields.map(function (f) {
      var select = el("select", "gc-input", [el("option", "", S.unmapped)]);
      select.name = f.name;
      select.options[0].value = "";
      r.columns.forEach(function (c) {
        var option = el("option", "", c);
        option.value = c;
        select.appendChild(option);
      });
      select.value = r.mapping[f.name] || "";
      return el("label", "gc-filter", [f.name + (f.required ? " (" + S.required + ")" : ""), select]);
    });
    $("gdx-mapping").replaceChildren.apply($("gdx-mapping"), rows);
  }

  function drawProblems(r) {
    // Errors first (they are what stops the import), each group in the order found.
    var ordered = r.problem_list.filter(function (p) { return p.severity === "error"; })
      .concat(r.problem_list.filter(function (p) { return p.severity !== "error"; }));
    var shown = ordered.slice(0, 200);
    var rows = shown.map(function (p) {
      var tr = el("tr", "gdx-p-" + p.severity, [el("td", "", p.severity === "error" ? S.error : S.note),
        el("td", "gcv-num", p.row === null ? "" : String(p.row)), el("td", "", p.key), el("td", "", p.field),
        el("td", "", lang === "en" ? p.en : p.zh)]);
      return tr;
    });
    if (r.problem_count > shown.length) {
      rows.push(el("tr", "", [el("td", "", ""), el("td", "", ""), el("td", "", ""), el("td", "", ""),
        el("td", "", G.fmt(S.more, { n: r.problem_count - shown.length }))]));
    }
    $("gdx-table-wrap").hidden = !rows.length;
    var body = $("gdx-problems").tBodies[0];
    body.replaceChildren.apply(body, rows);
    var placed = r.problem_list.filter(function (p) { return p.where; });
    $("gdx-map").hidden = !placed.length;
    if (!placed.length) return;
    if (!state.map) {
      state.map = L.map("gdx-map", { zoomControl: true });
      state.layer_group = L.layerGroup().addTo(state.map);
    }
    state.layer_group.clearLayers();
    var shapes = L.geoJSON({ type: "FeatureCollection", features: placed.map(function (p) {
      return { type: "Feature", geometry: p.where, properties: { text: (lang === "en" ? p.en : p.zh), severity: p.severity } };
    }) }, {
      style: function (f) { return { color: f.properties.severity === "error" ? "#b3261e" : "#8a6d00", weight: 2, fillOpacity: 0.3 }; },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 6 }); },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.text); },
    }).addTo(state.layer_group);
    state.map.invalidateSize();
    state.map.fitBounds(shapes.getBounds().pad(0.2), { animate: false, maxZoom: 17 });
  }

  $("gdx-import").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!$("gdx-file").files.length && !state.upload) { panel.say(S.noFile, "error"); return; }
    var fresh = $("gdx-file").files.length > 0;
    if (fresh) { state.result = null; }
    start(true, fresh).then(function () { $("gdx-file").value = ""; });
  });
  $("gdx-recheck").addEventListener("click", function () { start(true, false); });
  $("gdx-run").addEventListener("click", function () { start(false, false); });
  $("gdx-layer").addEventListener("change", function () { state.result = null; $("gdx-result").hidden = true; });

  // The export's area is picked by name (pickers.js); the link carries its code as the unit's
  // level (district/subdistrict/community). A name typed but not picked stops the download with a
  // message under the field.
  var areaPicker = window.GridmapPickers.area($("gdx-x-area"), {
    levels: ["district", "subdistrict", "community"],
    onPick: function () { areaProblem(null); exportLink(); },
  });

  function areaProblem(text) {
    $("gdx-x-area-problem").textContent = text || "";
    $("gdx-x-area-problem").hidden = !text;
    if (text) $("gdx-x-area").setAttribute("aria-invalid", "true");
    else $("gdx-x-area").removeAttribute("aria-invalid");
  }

  function exportLink() {
    var q = { crs: $("gdx-x-crs").value, encoding: $("gdx-x-encoding").value };
    var unit = areaPicker.value();
    if (unit) q[unit.level] = unit.code;
    $("gdx-x-link").href = G.apiUrl("/exports/" + $("gdx-x-layer").value + "." + $("gdx-x-format").value, q).toString();
  }
  $("gdx-export").addEventListener("change", exportLink);
  $("gdx-export").addEventListener("input", function (e) {
    if (e.target === $("gdx-x-area")) areaProblem(null);
    exportLink();
  });
  $("gdx-x-area").addEventListener("change", function () { areaProblem(areaPicker.problem()); });
  $("gdx-x-link").addEventListener("click", function (e) {
    var text = areaPicker.problem();
    if (text) { e.preventDefault(); areaProblem(text); $("gdx-x-area").focus(); }
  });
  exportLink();
  // The officer's own area (if any) is where the export starts, shown by name.
  if (config.area) {
    pending += 1;
    areaPicker.set(config.area).then(exportLink).catch(function () { /* the code stays, to be picked */ })
      .finally(function () { pending -= 1; });
  }

  // An import under way (started here before a reload): follow it again.
  pending += 1;
  G.getJSON("/jobs", { active: 1 }).then(function (body) {
    var running = body.jobs.filter(function (j) { return j.kind === "exchange.import"; })[0];
    if (running) {
      pending += 1;
      panel.follow(running).then(function (job) { if (job && job.state === "succeeded") show(job); })
        .finally(function () { pending -= 1; });
    }
  }).catch(function () { /* the forms work without it */ }).finally(function () { pending -= 1; });
})();
