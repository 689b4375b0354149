/*
 * gridmap — case detail page (案件详情): facts, photos, timeline, co-handlers and the actions the
 * signed-in person may take now. The server says which actions are allowed (`allowed_actions`)
 * and checks them again; every action carries the case's `version`, so a stale page gets a
 * conflict instead of overwriting someone else's work. The reporter's phone arrives masked; a
 * handler may reveal it with "show number", which the server records.
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  if (!C.requireAccount()) return;
  var S = C.S;
  var el = C.el;
  var fmt = C.fmt;
  var caseId = C.config.caseId;

  var MAX_PHOTOS = C.LIMITS.maxPhotos;             // the server's limits (page config)
  var MAX_PHOTO_BYTES = C.LIMITS.maxPhotoBytes;
  var NOTE_REQUIRED = C.config.noteRequired || [];

  var $ = function (id) { return document.getElementById(id); };
  var actionForm = $("gc-action-form");
  var messageEl = $("gc-action-message");

  var state = { detail: null, categories: null, loading: null, sending: false, phones: {} };

  function showMessage(text, kind) {
    messageEl.replaceChildren();
    messageEl.textContent = text || "";
    messageEl.dataset.kind = kind || "";
    messageEl.hidden = !text;
  }

  // ---------------------------------------------------------------- loading

  function load() {
    var controller = new AbortController();
    if (state.loading) state.loading.abort();
    state.loading = controller;
    return C.getJSON("/cases/" + caseId, {}, controller.signal)
      .then(function (detail) {
        if (controller !== state.loading) return detail;
        state.loading = null;
        render(detail);
        return detail;
      })
      .catch(function (err) {
        if (C.isAbort(err)) return null;
        state.loading = null;
        var box = $("gc-load-error");
        box.textContent = fmt(S.loadFailed, { reason: C.reasonOf(err) });
        box.hidden = false;
        // Nothing to show or do (not found, or out of this person's scope): say so only once.
        if (!state.detail) document.body.dataset.caseState = "unavailable";
        return null;
      });
  }

  function render(detail) {
    state.detail = detail;
    $("gc-load-error").hidden = true;
    $("gc-head-category").textContent = "· " + detail.category_name;
    $("gc-head-state").replaceChildren(C.stateBadge(detail.state));
    renderNextStep(detail);
    renderFacts(detail);
    renderPhotos(detail.photos || []);
    renderCohandlers(detail.cohandlers || []);
    renderTimeline(detail.events || []);
    renderActions(detail);
    placeOnMap(detail);
    document.body.dataset.caseState = detail.state;
    document.body.dataset.caseVersion = String(detail.version);
  }

  // ---------------------------------------------------------------- who acts next

  /** Who the next step waits for, by name: a department, the grid's worker, the community. */
  function nextActor(d, step) {
    var community = d.community_name || d.community_code;
    var worker = step.grid_worker ? fmt(S.whoGrid, { name: step.grid_worker }) : S.whoGridNobody;
    if (step.actor === "department" || step.actor === "cohandlers") {
      return step.departments.join(S.listSeparator);
    }
    if (step.actor === "grid") return worker;
    if (step.actor === "supervisor") return fmt(S.whoSupervisor, { community: community });
    return step.grid_worker ? fmt(S.whoGridOrSupervisor, { name: step.grid_worker, community: community })
      : fmt(S.whoSupervisor, { community: community });
  }

  /** One sentence for every reader: who must act, what, and by when. */
  function nextStepText(d) {
    var step = d.next_step || {};
    if (!step.action) return fmt(S.nextStepDone, { state: (S.states && S.states[d.state]) || d.state });
    var text = fmt(S.nextStep[step.action] || "{who}", { who: nextActor(d, step) });
    return step.due ? fmt(S.withDue, { step: text, due: C.localTime(step.due) }) : text;
  }

  function renderNextStep(d) {
    var box = $("gc-next-step");
    var mine = d.next_step && d.next_step.action && (d.allowed_actions || []).indexOf(d.next_step.action) >= 0;
    box.replaceChildren(el("span", "gc-next-step-text", nextStepText(d)));
    if (mine) box.append(el("span", "gc-badge gc-your-turn", S.yourTurn));
    box.dataset.actor = (d.next_step && d.next_step.actor) || "";
    box.hidden = false;
  }

  function fact(label, value, className) {
    var dd = el("dd", className, value === null || value === undefined || value === "" ? S.none : value);
    return [el("dt", null, label), dd];
  }

  function deadline(iso, status) {
    return el("span", "gc-deadline", [C.localTime(iso), " ", C.dueBadge(status)]);
  }

  function telLink(number) {
    var link = el("a", "gc-tel", number);
    link.href = "tel:" + number.replace(/[^\d+]/g, "");
    return link;
  }

  /**
   * A reporter's phone: masked, with "show number" for a handler; the number once revealed.
   * ``eventId`` names a merged report's reporter (its add_report event), else the case's own.
   */
  function phoneFact(masked, mayReveal, eventId) {
    if (!masked) return null;
    var key = eventId ? "event-" + eventId : "case";
    if (state.phones[key]) {
      return el("span", "gc-phone", [telLink(state.phones[key]), " ",
        el("small", "gc-hint gc-phone-note", S.phoneRecorded)]);
    }
    if (!mayReveal) return el("span", "gc-phone", masked);
    var button = el("button", "gc-button gc-button-small gc-reveal", S.showNumber);
    button.type = "button";
    if (!eventId) button.id = "gc-reveal-phone";
    var note = el("small", "gc-hint gc-phone-note", S.revealRecorded);
    button.addEventListener("click", function () { revealPhone(button, note, key, eventId); });
    return el("span", "gc-phone", [el("span", "gc-phone-masked", masked), " ", button, " ", note]);
  }

  function revealPhone(button, note, key, eventId) {
    button.disabled = true;
    var body = new FormData();
    if (eventId) body.append("event", String(eventId));
    C.request("/cases/" + caseId + "/reporter-phone", { method: "POST", body: body }).then(function (result) {
      if (result.ok && result.body && result.body.reporter_phone) {
        state.phones[key] = result.body.reporter_phone;
        render(state.detail);
        var shown = document.querySelector(eventId ? '#gc-timeline [data-event="' + eventId + '"] .gc-tel'
          : "#gc-facts .gc-tel");
        if (shown) shown.focus();
        return;
      }
      button.disabled = false;
      note.textContent = fmt(S.revealFailed, { reason: C.errorFrom(result).message });
      note.classList.add("gc-error");
    }).catch(function () {
      button.disabled = false;
      note.textContent = fmt(S.revealFailed, { reason: S.networkError });
      note.classList.add("gc-error");
    });
  }

  function renderFacts(d) {
    var rows = [].concat(
      fact(S.category, d.category_name),
      fact(S.state, C.stateBadge(d.state)),
      fact(S.description, d.description, "gc-description"),
      fact(S.address, d.address),
      fact(S.grid, gridFact(d)),
      fact(S.channel, S.channels[d.channel] || d.channel),
      fact(S.owner, d.owner_kind === "department" ? d.owner_department_name
        : d.owner_kind === "grid" ? S.keptByGrid : S.undispatched),
      fact(S.reporter, d.reporter_name),
      fact(S.phone, phoneFact(d.reporter_phone, d.may_reveal_phone, null)),
      fact(S.createdAt, C.localTime(d.created_at)),
      fact(S.respondBy, deadline(d.respond_by, d.response_status)),
      fact(S.resolveBy, deadline(d.resolve_by, d.resolution_status)));
    if (d.rating) rows = rows.concat(fact(S.rating, S.ratings[d.rating] || d.rating));
    if (d.reopen_count) rows = rows.concat(fact(S.reopened, d.reopen_count));
    $("gc-facts").replaceChildren.apply($("gc-facts"), rows);
  }

  /** The grid by name and community (a grid merged away since keeps its last name), then its code. */
  function gridFact(d) {
    var name = d.grid_name ? (d.community_name ? fmt(S.gridWithCommunity, { grid: d.grid_name, community: d.community_name })
      : d.grid_name) : null;
    return el("span", "gc-grid-name", [name, name ? " " : null, el("code", "gc-code", d.grid_code)]);
  }

  function renderPhotos(photos) {
    $("gc-photos-card").hidden = !photos.length;
    $("gc-photos").replaceChildren.apply($("gc-photos"), photos.map(function (p) {
      var img = el("img");
      img.src = C.pageUrl(p.thumb_url);
      img.alt = (S.photoKinds[p.kind] || p.kind);
      img.loading = "lazy";
      var link = el("a", "gc-thumb", [img, el("span", "gc-thumb-kind", S.photoKinds[p.kind] || p.kind)]);
      link.href = C.pageUrl(p.url);
      link.target = "_blank";
      link.rel = "noopener";
      return el("li", null, link);
    }));
  }

  function renderCohandlers(cohandlers) {
    $("gc-cohandlers-card").hidden = !cohandlers.length;
    $("gc-cohandlers").replaceChildren.apply($("gc-cohandlers"), cohandlers.map(function (c) {
      return el("li", c.done ? "gc-done" : "", [
        el("strong", null, c.department_name || c.department), " ",
        el("span", "gc-badge " + (c.done ? "gc-state-closed" : "gc-state-in_progress"), c.done ? S.done : S.working),
        c.note ? el("p", "gc-note", c.note) : null,
      ]);
    }));
  }

  function departmentName(code) {
    var found = ((state.detail && state.detail.enrolled_departments) || []).find(function (d) { return d.code === code; });
    return found ? found.name : code;
  }

  function payloadText(event) {
    var p = event.payload || {};
    var parts = [];
    var owner = function (code) { return code ? departmentName(code) : S.keptByGrid; };
    if (event.action === "reassign") {
      parts.push(fmt(S.reassigned, { from: owner(p.from_department), to: owner(p.department) }));
    } else if (event.action === "dispatch") {
      parts.push(fmt(S.ownerIs, { department: owner(p.department) }));
    } else if (p.department) {
      parts.push(departmentName(p.department));
    }
    if (p.departments && p.departments.length) parts.push(p.departments.map(departmentName).join(S.listSeparator));
    if (p.rating) parts.push(S.ratings[p.rating] || p.rating);
    if (p.method) parts.push(fmt("{label}：{method}", { label: S.ratingMethod, method: S.ratingMethods[p.method] || p.method }));
    if (p.reason) parts.push(S.reasons[p.reason] || p.reason);
    return parts.join(" · ");
  }

  /** A merged report, with all it brought: "第 2 位反映人 王… 138****5678 于 … 通过 … 反映", its
   * address and photos. */
  function furtherReport(e, n) {
    var p = e.payload || {};
    var photos = ((state.detail && state.detail.photos) || []).filter(function (ph) {
      return (p.photo_ids || []).indexOf(ph.id) >= 0;
    });
    var line = el("div", "gc-event-reporter", [
      el("strong", null, fmt(S.reporterNo, { n: n })), " ", p.reporter_name || "", " ",
      phoneFact(p.reporter_phone, p.may_reveal_phone, e.id), " ",
      fmt(S.reportedVia, { time: C.localTime(e.created_at), channel: S.channels[p.channel] || p.channel || S.none }),
    ]);
    var thumbs = photos.length ? el("ul", "gc-thumbs gc-event-photos", photos.map(function (ph) {
      var img = el("img");
      img.src = C.pageUrl(ph.thumb_url);
      img.alt = S.photoKinds[ph.kind] || ph.kind;
      var link = el("a", "gc-thumb", img);
      link.href = C.pageUrl(ph.url);
      link.target = "_blank";
      link.rel = "noopener";
      return el("li", null, link);
    })) : null;
    return [line, p.address ? el("div", "gc-event-payload", [S.address, "：", p.address]) : null, thumbs];
  }

  function renderTimeline(events) {
    var reporters = 1;
    $("gc-timeline").replaceChildren.apply($("gc-timeline"), events.map(function (e) {
      var further = e.action === "add_report" ? furtherReport(e, ++reporters) : null;
      // No actor: the system's own event (a supervision notice, 督办).
      var who = e.actor_name == null ? C.roleText("system")
        : [e.actor_name, C.roleText(e.actor_role), e.actor_department].filter(Boolean).join(" · ");
      var moved = e.from_state && e.from_state !== e.to_state;
      var time = el("time", "gc-time", C.localTime(e.created_at));
      time.dateTime = e.created_at;
      var item = el("li", "gc-event", [
        el("div", "gc-event-head", [
          el("strong", "gc-event-action", S.actions[e.action] || e.action),
          moved ? el("span", "gc-transition", [C.stateBadge(e.from_state), " → ", C.stateBadge(e.to_state)])
            : C.stateBadge(e.to_state),
        ]),
        el("div", "gc-event-meta", [el("span", "gc-event-who", who), " ", time]),
        further ? null : payloadText(e) ? el("div", "gc-event-payload", payloadText(e)) : null,
      ].concat(further || [], [e.note ? el("p", "gc-note", e.note) : null]));
      item.dataset.action = e.action;
      item.dataset.event = String(e.id);
      return item;
    }));
  }

  // ---------------------------------------------------------------- map

  var map = null;
  var pin = null;
  function placeOnMap(d) {
    if (!window.L || d.lat === null || d.lat === undefined) return;
    if (!map) {
      var basemap = C.createMap("gc-map", { center: [d.lat, d.lon], zoom: 17 });
      map = basemap.map;
      window.gridmap.map = map;
      window.gridmap.isIdle = basemap.isIdle;
    }
    if (!pin) {
      pin = L.circleMarker([d.lat, d.lon], { radius: 10, weight: 3, color: "#ffffff", fillColor: "#d9480f",
        fillOpacity: 1, interactive: false }).addTo(map);
    } else {
      pin.setLatLng([d.lat, d.lon]);
    }
  }

  // ---------------------------------------------------------------- acting

  function renderActions(d) {
    var box = $("gc-action-buttons");
    var allowed = d.allowed_actions || [];
    var open = actionForm.dataset.action;
    if (open && allowed.indexOf(open) < 0) closeForm();
    if (!allowed.length) {
      box.replaceChildren(el("p", "gc-hint gc-no-actions", S.noActions));
      return;
    }
    box.replaceChildren.apply(box, allowed.map(function (action) {
      var button = el("button", "gc-button gc-action-" + action, S.actions[action] || action);
      button.type = "button";
      button.dataset.action = action;
      button.setAttribute("aria-pressed", String(open === action));
      button.addEventListener("click", function () { openForm(action); });
      return button;
    }));
  }

  function closeForm() {
    actionForm.hidden = true;
    actionForm.replaceChildren();
    delete actionForm.dataset.action;
    Array.prototype.forEach.call(document.querySelectorAll("#gc-action-buttons button"), function (b) {
      b.setAttribute("aria-pressed", "false");
    });
  }

  function field(label, control) {
    if (!control.id) control.id = "gc-f-" + Math.random().toString(36).slice(2);
    var labelEl = el("label", null, label);
    labelEl.htmlFor = control.id;
    return el("div", "gc-field", [labelEl, control]);
  }

  function option(value, text, selected) {
    var node = el("option", null, text);
    node.value = value;
    node.selected = Boolean(selected);
    return node;
  }

  function defaultDepartment(d) {
    var category = (state.categories || []).find(function (c) { return c.code === d.category; });
    var enrolled = d.enrolled_departments.map(function (e) { return e.code; });
    return category ? category.default_departments.find(function (code) { return enrolled.indexOf(code) >= 0; }) : null;
  }

  /** The fields an action needs, then its confirm button(s). */
  function openForm(action) {
    var d = state.detail;
    var parts = [el("h3", null, S.actions[action] || action)];
    if (action === "dispatch" || action === "reassign") {
      // Reassigning offers the same choice as dispatching, minus the current owner.
      var reassigning = action === "reassign";
      var dept = el("select", "gc-input");
      dept.name = "department";
      var preferred = defaultDepartment(d);
      if (!reassigning || d.owner_kind !== "grid") dept.append(option("", S.keptByGrid, false));
      d.enrolled_departments.forEach(function (e) {
        if (!reassigning || e.code !== d.owner_department) dept.append(option(e.code, e.name, e.code === preferred));
      });
      parts.push(field(reassigning ? S.newOwner : S.department, dept));
    } else if (action === "whistle") {
      var taken = d.cohandlers.map(function (c) { return c.department; }).concat([d.owner_department]);
      var boxes = d.enrolled_departments.filter(function (e) { return taken.indexOf(e.code) < 0; }).map(function (e) {
        var input = el("input");
        input.type = "checkbox";
        input.name = "departments";
        input.value = e.code;
        return el("label", "gc-check", [input, " ", e.name]);
      });
      parts.push(el("fieldset", "gc-checks", [el("legend", null, S.departments)].concat(boxes)));
    } else if (action === "cancel") {
      var reasons = C.ORDER.reasons.map(function (code, i) {
        var input = el("input");
        input.type = "radio";
        input.name = "reason";
        input.value = code;
        input.checked = i === 0;
        return el("label", "gc-check", [input, " ", S.reasons[code]]);
      });
      parts.push(el("fieldset", "gc-checks", [el("legend", null, S.reason)].concat(reasons)));
    }
    if (action === "rate") {
      // How the rating was obtained (回访方式): asked first, recorded with the rating.
      var methods = (C.config.ratingMethods || []).map(function (code) {
        var input = el("input");
        input.type = "radio";
        input.name = "method";
        input.value = code;
        input.required = true;
        return el("label", "gc-check", [input, " ", S.ratingMethods[code] || code]);
      });
      parts.push(el("fieldset", "gc-checks gc-rating-methods", [el("legend", null, S.ratingMethod)].concat(methods)));
    }
    var note = el("textarea", "gc-input");
    note.name = "note";
    note.rows = 3;
    note.maxLength = C.LIMITS.maxNote;
    var required = NOTE_REQUIRED.indexOf(action) >= 0;
    note.required = required;
    parts.push(field(required ? S.noteRequired : S.note, note));
    if (action === "resolve") {
      var files = el("input", "gc-file");
      files.type = "file";
      files.name = "after_photos";
      files.accept = "image/*";
      files.multiple = true;
      parts.push(field(S.afterPhotos, files));
    }
    var buttons = el("div", "gc-form-actions");
    if (action === "rate") {
      C.ORDER.ratings.forEach(function (code) {
        var b = el("button", "gc-button gc-button-primary gc-rating gc-rating-" + code, S.ratings[code]);
        b.type = "submit";
        b.name = "rating";
        b.value = code;
        buttons.append(b);
      });
    } else {
      var confirm = el("button", "gc-button gc-button-primary", S.confirm);
      confirm.type = "submit";
      buttons.append(confirm);
    }
    var cancel = el("button", "gc-button", S.cancelForm);
    cancel.type = "button";
    cancel.addEventListener("click", closeForm);
    buttons.append(cancel);
    parts.push(el("p", "gc-error gc-form-error", null), buttons);
    actionForm.replaceChildren.apply(actionForm, parts);
    actionForm.querySelector(".gc-form-error").hidden = true;
    actionForm.dataset.action = action;
    actionForm.hidden = false;
    Array.prototype.forEach.call(document.querySelectorAll("#gc-action-buttons button"), function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.action === action));
    });
    (actionForm.querySelector("select, input, textarea") || actionForm.querySelector("button")).focus({ preventScroll: true });
    // The whole form, with its buttons, in view (on a phone the action card is below the fold).
    actionForm.querySelector(".gc-form-actions").scrollIntoView({ block: "nearest" });
  }

  function problemWith(action, data, photos) {
    if (NOTE_REQUIRED.indexOf(action) >= 0 && !String(data.get("note") || "").trim()) return S.noteMissing;
    if (action === "whistle" && !data.get("departments")) return S.needDepartments;
    if (action === "rate" && !data.get("method")) return S.needMethod;
    if (photos.length > MAX_PHOTOS) return S.tooManyPhotos;
    var bad = photos.find(function (f) { return !/^image\//.test(f.type) || f.size > MAX_PHOTO_BYTES; });
    if (bad) return fmt(/^image\//.test(bad.type) ? S.tooLarge : S.notImage, { name: bad.name });
    return "";
  }

  actionForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (state.sending) return;
    var action = actionForm.dataset.action;
    var formError = actionForm.querySelector(".gc-form-error");
    var fields = new FormData(actionForm);
    var photos = fields.getAll("after_photos").filter(function (f) { return f && f.name; });
    var problem = problemWith(action, fields, photos);
    formError.textContent = problem;
    formError.hidden = !problem;
    if (problem) return;
    var data = new FormData();
    data.append("action", action);
    data.append("version", String(state.detail.version));
    data.append("note", String(fields.get("note") || "").trim());
    if (action === "dispatch" || action === "reassign") data.append("department", fields.get("department") || "");
    if (action === "whistle") data.append("departments", fields.getAll("departments").join(","));
    if (action === "cancel") data.append("reason", fields.get("reason") || "");
    if (action === "rate" && e.submitter) data.append("rating", e.submitter.value);
    if (action === "rate") data.append("method", fields.get("method") || "");
    photos.forEach(function (f) { data.append("after_photos", f, f.name); });
    send(action, data, formError);
  });

  function setSending(sending) {
    state.sending = sending;
    Array.prototype.forEach.call(document.querySelectorAll("#gc-action-form button, #gc-action-buttons button"),
      function (b) { b.disabled = sending; });
    actionForm.setAttribute("aria-busy", String(sending));
  }

  function send(action, data, formError) {
    setSending(true);
    showMessage("", "");
    C.request("/cases/" + caseId + "/actions", { method: "POST", body: data }).then(function (result) {
      setSending(false);
      if (result.ok && result.body && result.body.out_of_scope) {
        // Done, and the case is no longer this person's to read (returned or reassigned away).
        closeForm();
        $("gc-action-buttons").replaceChildren();
        $("gc-next-step").hidden = true;  // what it said was for before the action
        showMessage(fmt(S.handedOver, { action: S.actions[action] || action }), "ok");
        var board = el("a", "gc-link", S.toBoard);
        board.href = C.pageUrl("/cases");
        messageEl.append(" ", board);
      } else if (result.ok && result.body) {
        closeForm();
        render(result.body);
        showMessage(fmt(S.saved, { action: S.actions[action] || action }), "ok");
      } else if (result.status === 409) {
        // Someone else acted first (or the case's parts forbid it now): show their state.
        closeForm();
        // One short sentence: the reloaded page shows what changed (no server detail, no versions).
        showMessage(S.conflict, "conflict");
        var again = el("button", "gc-button gc-reload", S.reload);
        again.type = "button";
        again.addEventListener("click", function () { showMessage("", ""); load(); });
        messageEl.append(" ", again);
        load();
      } else {
        formError.textContent = C.errorFrom(result).message;
        formError.hidden = false;
      }
    }).catch(function () {
      setSending(false);
      formError.textContent = S.networkError;
      formError.hidden = false;
    });
  }

  // ---------------------------------------------------------------- start

  window.gridmap = { map: null, isIdle: function () { return true; }, state: state, reload: load };

  C.getJSON("/case-categories", {}).then(function (categories) { state.categories = categories; })
    .catch(function () { state.categories = []; });
  load();
})();
