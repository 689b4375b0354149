/*
 * gridmap — following a background job on a page (window.GridmapJobs).
 *
 * A panel made by the `job_panel` macro (templates/_job.html): a progress bar, a line of text,
 * a cancel button and an outcome line. `follow(job, panel)` polls /api/jobs/<id> until the job
 * has finished and resolves with its last state; the page looks for running jobs when it opens
 * (so the bar survives a reload) and starts jobs itself. Text comes from the panel's strings.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var S = G.readJSON("gm-job-strings");
  var POLL_MS = [800, 1500, 3000];   // faster at first, then slower while a long job runs

  function Panel(prefix) {
    var $ = function (name) { return document.getElementById(prefix + "-" + name); };
    this.root = $("job");
    this.bar = $("job-bar");
    this.text = $("job-text");
    this.cancel = $("job-cancel");
    this.outcome = $("job-outcome");
    this.current = null;
    var panel = this;
    this.cancel.addEventListener("click", function () {
      if (!panel.current) return;
      panel.cancel.disabled = true;
      G.request("/jobs/" + panel.current.id + "/cancel", { method: "POST" }).then(function (result) {
        if (result.ok && result.body) panel.show(result.body.job);
        else panel.say(G.reasonOf(G.errorFrom(result), S.networkError), "error");
      });
    });
  }

  Panel.prototype.say = function (text, kind) {
    this.outcome.textContent = text || "";
    this.outcome.dataset.kind = kind || "";
    this.outcome.hidden = !text;
  };

  /** Draw a job's state: the bar while it waits or runs, the outcome once it has finished. */
  Panel.prototype.show = function (job) {
    this.current = job;
    this.root.dataset.state = job.state;
    this.root.hidden = job.finished;
    var percent = Math.round(job.progress * 100);
    this.bar.value = job.progress;
    this.bar.textContent = percent + "%";
    var line = job.state === "queued" ? S.queued : percent + "% · " + (job.progress_text || "");
    if (job.cancel_requested && !job.finished) line = S.cancelling;
    this.text.textContent = line + (job.owner ? " · " + G.fmt(S.startedBy, { owner: job.owner }) : "");
    this.cancel.hidden = !job.may_cancel;
    this.cancel.disabled = job.cancel_requested;
    if (!job.finished) { this.say(""); return; }
    if (job.state === "succeeded") this.say(S.succeeded, "ok");
    else if (job.state === "cancelled") this.say(S.cancelled, "");
    else this.say(G.fmt(S.failed, { error: job.error || "" }), "error");
  };

  /** Poll until the job has finished; resolves with its last state (null if it vanished). */
  Panel.prototype.follow = function (job) {
    var panel = this;
    var round = 0;
    panel.show(job);
    return new Promise(function (resolve) {
      function poll() {
        if (panel.current && panel.current.finished) { resolve(panel.current); return; }
        window.setTimeout(function () {
          round += 1;
          G.request("/jobs/" + job.id).then(function (result) {
            if (result.ok && result.body) panel.show(result.body.job);
            else if (result.status === 404) { panel.root.hidden = true; resolve(null); return; }
            poll();
          }, function () { poll(); });   // the network blinked: try again
        }, POLL_MS[Math.min(round, POLL_MS.length - 1)]);
      }
      poll();
    });
  };

  /** POST a start request; resolves with the job (new or the one already under way). */
  function start(path, body) {
    return G.request(path, { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" } }).then(function (result) {
      if (result.ok && result.body) return result.body.job;
      throw G.errorFrom(result);
    });
  }

  window.GridmapJobs = { Panel: Panel, start: start, strings: S };
})();
