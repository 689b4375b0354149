/*
 * gridmap — the coverage reports page (templates/reports/page.html): start a report (a
 * background job), follow its progress, and reload the list when it is done. A report still
 * being made when the page opens (after a reload, or started by a colleague) is followed too.
 * Needs common.js, jobs.js and pickers.js.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var J = window.GridmapJobs;
  var S = G.config.strings;
  var $ = function (id) { return document.getElementById(id); };
  var panel = new J.Panel("grp");
  var area = window.GridmapPickers.area($("grp-area"), {
    levels: ["district", "subdistrict", "community"],
    onPick: function () { $("grp-area-problem").hidden = true; },
  });

  function follow(job) {
    return panel.follow(job).then(function (last) {
      if (last && last.state === "succeeded") window.location.reload();
    });
  }

  // The list is newest first: follow the newest report still waiting or running.
  var running = document.querySelector(
    'tr[data-state="queued"][data-id], tr[data-state="running"][data-id]');
  if (running) {
    G.request("/jobs/" + running.dataset.id).then(function (result) {
      if (result.ok && result.body && !result.body.job.finished) follow(result.body.job);
    });
  }

  $("grp-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var unit = area.value();
    var body = { type: $("grp-type").value, circle: $("grp-circle").value };
    if (unit) body.area = unit.code;
    $("grp-start").disabled = true;
    J.start("/reports/coverage", body).then(follow, function (error) {
      panel.say(G.fmt(S.startFailed, { reason: G.reasonOf(error, S.networkError) }), "error");
    }).then(function () { $("grp-start").disabled = false; });
  });
})();
