/*
 * gridmap — a community's volunteers (志愿服务), phone first. Reads
 * /api/volunteers/communities/<code>: teams and the ranking for everyone (names masked), and for
 * staff over the community the volunteers, the tasks and the steps they record on a volunteer's
 * behalf (accept, done with hours, cancel), plus the form that publishes a case's or a visit's
 * need as a task (?case=… or ?visit=… prefill it). Strings come from the template.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var S = G.strings;
  var config = G.config;
  var el = G.el;
  var $ = function (id) { return document.getElementById(id); };
  var status = $("gv-status");
  var current = null;

  function failed(err) { return S.failed.replace("{reason}", G.reasonOf(err, "")); }

  function post(path, body) {
    return G.request(path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) }).then(function (result) {
      if (!result.ok) throw G.errorFrom(result);
      return result.body;
    });
  }

  function teamItem(team) {
    var head = el("div", "gv-item-head", [el("strong", null, team.name),
      el("span", "gv-points", G.fmt(S.points, { n: team.points }))]);
    var meta = [G.fmt(S.volunteersN, { n: team.volunteers }),
      G.fmt(S.hours, { n: team.hours })];
    if (team.leader) meta.push(S.leader + " " + team.leader + (team.leader_phone ? " " + team.leader_phone : ""));
    var li = el("li", "gv-item", [head, el("div", "gv-meta", meta.join(" · "))]);
    li.dataset.teamId = String(team.id);
    return li;
  }

  function volunteerItem(v) {
    var parts = [v.team, G.fmt(S.points, { n: v.points })];
    if (v.phone) parts.push(v.phone);
    if (v.availability) parts.push(S.availability + " " + v.availability);
    return el("li", "gv-item", [el("div", "gv-item-head", [el("strong", null, v.name),
      el("span", "gv-points", G.fmt(S.hours, { n: v.hours }))]), el("div", "gv-meta", parts.join(" · "))]);
  }

  function stepForm(task, answer) {
    var form = el("form", "gv-form gv-step");
    var box = el("div", "gv-result");
    function run(path, body) {
      post("/volunteers/tasks/" + task.id + "/" + path, body).then(function () { load(current); })
        .catch(function (err) { box.textContent = failed(err); });
    }
    if (task.state === "open") {
      var who = el("select", "gv-input");
      answer.volunteers.filter(function (v) { return v.team_id === task.team_id && v.active; })
        .forEach(function (v) { var o = el("option", null, v.name); o.value = String(v.id); who.appendChild(o); });
      var accept = el("button", "gv-button gv-button-primary", S.accept);
      accept.type = "button";
      accept.addEventListener("click", function () { run("accept", { volunteer_id: Number(who.value) }); });
      form.appendChild(el("label", null, [S.whoAccepts, who]));
      form.appendChild(accept);
    }
    if (task.state === "accepted") {
      var hours = el("input", "gv-input");
      hours.type = "number"; hours.step = "0.5"; hours.min = "0.5"; hours.value = "2"; hours.name = "hours";
      var done = el("button", "gv-button gv-button-primary", S.done);
      done.type = "button";
      done.addEventListener("click", function () { run("done", { hours: Number(hours.value) }); });
      form.appendChild(el("label", null, [S.hoursAsk, hours]));
      form.appendChild(done);
    }
    if (task.state === "open" || task.state === "accepted") {
      var cancel = el("button", "gv-button", S.cancel);
      cancel.type = "button";
      cancel.addEventListener("click", function () {
        var reason = window.prompt(S.reasonAsk);
        if (reason) run("cancel", { reason: reason });
      });
      form.appendChild(cancel);
    }
    form.appendChild(box);
    return form;
  }

  function taskItem(task, answer) {
    var source = task.case_id ? S.case + " #" + task.case_id : S.visit + " #" + task.visit_id;
    var meta = [task.team, source];
    if (task.volunteer) meta.push(task.volunteer);
    if (task.hours) {
      meta.push(G.fmt(S.hours, { n: task.hours }) + " · " + G.fmt(S.points, { n: task.points }));
    }
    var li = el("li", "gv-item gv-task gv-task-" + task.state, [
      el("div", "gv-item-head", [el("strong", null, task.title),
        el("span", "gv-state", S.states[task.state] || task.state)]),
      el("div", "gv-meta", meta.join(" · "))]);
    li.dataset.taskId = String(task.id);
    if (task.state === "open" || task.state === "accepted") li.appendChild(stepForm(task, answer));
    return li;
  }

  function fill(list, items, empty) {
    list.replaceChildren.apply(list, items.length ? items : [el("li", "gv-empty", empty)]);
  }

  function render(answer) {
    $("gv-community-name").textContent = answer.community.name;
    fill($("gv-teams"), answer.teams.map(teamItem), S.noTeams);
    fill($("gv-ranking"), answer.ranking.volunteers.map(function (v, i) {
      return el("li", null, [el("span", "gv-rank", String(i + 1)), el("span", "gv-rank-name", v.name + " · " + v.team),
        el("b", null, G.fmt(S.points, { n: v.points }))]);
    }), S.noTeams);
    var full = Boolean(answer.full);
    $("gv-publish").hidden = !full;
    $("gv-tasks-section").hidden = !full;
    $("gv-volunteers-section").hidden = !full;
    if (!full) return;
    fill($("gv-tasks"), answer.tasks.map(function (t) { return taskItem(t, answer); }), S.noTasks);
    fill($("gv-volunteers"), answer.volunteers.map(volunteerItem), S.noTeams);
    var teams = $("gv-publish-form").elements.team_id;
    teams.replaceChildren.apply(teams, answer.teams.map(function (t) {
      var o = el("option", null, t.name); o.value = String(t.id); return o;
    }));
  }

  function load(code) {
    if (!/^[0-9]{12}$/.test(code || "")) { status.textContent = S.chooseCommunity; return; }
    current = code;
    status.textContent = S.loading;
    G.getJSON("/volunteers/communities/" + code).then(function (answer) {
      status.textContent = "";
      render(answer);
    }).catch(function (err) { status.textContent = S.loadFailed.replace("{reason}", G.reasonOf(err, "")); });
  }

  $("gv-community-form").addEventListener("submit", function (event) {
    event.preventDefault();
    load($("gv-community").value.trim());
  });

  var publish = $("gv-publish-form");
  if (config.caseId) { publish.elements.source.value = "case"; publish.elements.source_id.value = config.caseId; }
  if (config.visitId) { publish.elements.source.value = "visit"; publish.elements.source_id.value = config.visitId; }
  publish.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = publish.elements;
    var box = publish.querySelector(".gv-result");
    var body = { team_id: Number(f.team_id.value), title: f.title.value, detail: f.detail.value };
    body[f.source.value === "visit" ? "visit_id" : "case_id"] = Number(f.source_id.value);
    post("/volunteers/tasks", body).then(function (task) {
      box.textContent = G.fmt(S.published, { id: task.id });
      publish.reset();
      load(current);
    }).catch(function (err) { box.textContent = failed(err); });
  });

  $("gv-community").value = config.community || "";
  load(config.community);
})();
