/*
 * gridmap — case statistics (统计分析). Turns the unit picker and month range into a request to
 * /api/cases/stats and draws what comes back: KPI cards, two ECharts charts (served locally from
 * /vendor) and a sortable ranking of the unit's children. The metric definitions live on the
 * server (gridmap/services/case_stats.py); this page only formats them. The selection lives in
 * the page's URL, so a view can be bookmarked and shared.
 */
(function () {
  "use strict";

  var C = window.GridmapCases;
  if (!C.requireAccount()) return;
  var S = C.S;
  var el = C.el;
  var config = C.config;
  var $ = function (id) { return document.getElementById(id); };

  // The rates in display order, each [name, numerator, denominator] as the server defines them.
  var RATE_PARTS = {};
  var RATES = (config.rates || []).map(function (r) { RATE_PARTS[r[0]] = [r[1], r[2]]; return r[0]; });
  var KPIS = ["cases"].concat(RATES, ["median_hours", "per_1000"]);
  var COLUMNS = ["cases"].concat(RATES, ["median_hours", "per_1000"]);
  // Which direction is worse, per metric (cases alone is not a judgement).
  var WORSE = { median_hours: "high", per_1000: "high" };
  RATES.forEach(function (r) { WORSE[r] = "low"; });
  var LINE_COLORS = ["#2f6fb5", "#7b5ea7", "#1e8a4c", "#c77800", "#c2185b"];
  var PICKED = { district: "districts", department: "departments" };

  var locale = config.lang === "en" ? "en-GB" : "zh-CN";
  var pct = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  var num = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  var fine = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  var state = { params: {}, data: null, sort: { key: "cases", dir: -1 }, controller: null, charts: {}, home: null };

  function formatMetric(key, value) {
    if (value === null || value === undefined) return S.noValue;
    if (RATES.indexOf(key) >= 0) return pct.format(value);
    return (key === "per_1000" ? fine : num).format(value);
  }

  // ---------------------------------------------------------------- the unit picker

  function fillSelect(level, selected) {
    var select = $("gd-unit-select");
    var options = (config[PICKED[level]] || []).map(function (unit) {
      var option = el("option", null, unit.name);
      option.value = unit.code;
      return option;
    });
    select.replaceChildren.apply(select, options);
    if (selected) select.value = selected;
  }

  function showPicker(level, code) {
    var picked = Boolean(PICKED[level]);
    $("gd-unit-select-wrap").hidden = !picked;
    $("gd-unit-search-wrap").hidden = picked;
    if (picked) fillSelect(level, code);
    $("gd-unit-results").hidden = true;
  }

  var searchCode = null;

  var search = C.debounce(function (query, level) {
    var list = $("gd-unit-results");
    if (!query) { list.hidden = true; return; }
    C.getJSON("/search", { q: query, limit: 50 }).then(function (body) {
      var hits = (body.results || []).filter(function (r) { return r.kind === level; }).slice(0, 12);
      list.replaceChildren.apply(list, hits.length ? hits.map(function (hit) {
        var button = el("button", "gc-result", [el("span", null, hit.name), el("small", null, hit.context + " · " + hit.code)]);
        button.type = "button";
        button.addEventListener("click", function () {
          searchCode = hit.code;
          $("gd-unit-search").value = hit.name;
          list.hidden = true;
          apply();
        });
        return el("li", null, button);
      }) : [el("li", "gc-results-message", S.noResults)]);
      list.hidden = false;
    }).catch(function () { list.hidden = true; });
  }, 250);

  // ---------------------------------------------------------------- drawing

  function kpiCard(key, total) {
    var note = "";
    if (RATE_PARTS[key]) {
      note = C.fmt(S.kpiNotes[key], { num: total[RATE_PARTS[key][0]], den: total[RATE_PARTS[key][1]] });
    } else if (key === "cases") {
      note = C.fmt(S.kpiNotes.cases, { cancelled: total.cancelled });
    } else if (key === "per_1000") {
      note = total.residents === null ? "" : C.fmt(S.kpiNotes.per_1000, { residents: num.format(total.residents) });
    } else {
      note = S.kpiNotes[key];
    }
    var card = el("div", "gd-kpi", [
      el("span", "gd-kpi-label", S.metrics[key]),
      el("strong", "gd-kpi-value", formatMetric(key, total[key])),
      el("span", "gd-kpi-note", note),
    ]);
    card.dataset.metric = key;
    return card;
  }

  function drawPath(unit) {
    var nav = $("gd-path");
    var parts = [];
    unit.path.forEach(function (step, i) {
      if (i) parts.push(el("span", "gd-path-sep", "›"));
      if (i === unit.path.length - 1) {
        parts.push(el("strong", null, [S.levels[step.level] + " · ", step.name]));
      } else {
        var link = el("a", "gc-link", step.name);
        link.href = "?" + new URLSearchParams(Object.assign({}, state.params, { level: step.level, code: step.code }));
        parts.push(link);
      }
    });
    nav.replaceChildren.apply(nav, parts);
  }

  function chart(id) {
    if (!state.charts[id]) state.charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
    return state.charts[id];
  }

  function drawMonths(months) {
    var series = [{
      name: S.metrics.cases, type: "bar", yAxisIndex: 0, itemStyle: { color: "#9db8d9" },
      data: months.map(function (m) { return m.cases; }),
    }].concat(RATES.map(function (key, i) {
      return {
        name: S.metrics[key], type: "line", yAxisIndex: 1, smooth: false, symbolSize: 6, connectNulls: false,
        itemStyle: { color: LINE_COLORS[i] }, lineStyle: { color: LINE_COLORS[i], width: 2 },
        data: months.map(function (m) { return m[key] === null ? null : Math.round(m[key] * 1000) / 10; }),
      };
    }));
    chart("gd-chart-months").setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, type: "plain", itemGap: 12 },
      grid: { left: 48, right: 56, top: 36, bottom: 72 },
      xAxis: { type: "category", data: months.map(function (m) { return m.month; }) },
      yAxis: [
        { type: "value", name: S.casesAxis, minInterval: 1 },
        { type: "value", name: S.rateAxis, min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } },
      ],
      series: series,
    }, true);
  }

  function drawCategories(top) {
    var rows = top.slice().reverse();
    chart("gd-chart-categories").setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 48, top: 16, bottom: 24, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(function (c) { return c.name; }) },
      series: [{ name: S.metrics.cases, type: "bar", itemStyle: { color: "#2f6fb5" }, barMaxWidth: 28,
        label: { show: true, position: "right" }, data: rows.map(function (c) { return c.cases; }) }],
      graphic: top.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: S.noData, fill: "#5f6b7a" } }],
    }, true);
  }

  function drawStates(states) {
    var list = $("gd-states");
    var items = C.ORDER.states.filter(function (s) { return states[s]; }).map(function (s) {
      return el("li", null, [C.stateBadge(s), " ", el("strong", null, num.format(states[s]))]);
    });
    list.replaceChildren.apply(list, items.length ? items : [el("li", "gc-muted", S.noData)]);
  }

  /** The code of the worst child for each judged metric (only when at least two can be compared). */
  function worstOf(children) {
    var worst = {};
    Object.keys(WORSE).forEach(function (key) {
      var rows = children.filter(function (c) { return c[key] !== null && c.cases > 0; });
      if (rows.length < 2) return;
      var sign = WORSE[key] === "high" ? -1 : 1;
      rows.sort(function (a, b) { return sign * (a[key] - b[key]); });
      if (rows[0][key] !== rows[rows.length - 1][key]) worst[key] = rows[0].code;
    });
    return worst;
  }

  function compare(key, dir) {
    return function (a, b) {
      var x = a[key], y = b[key];
      if (x === null && y === null) return a.code < b.code ? -1 : 1;
      if (x === null) return 1;            // unknowns always last
      if (y === null) return -1;
      if (typeof x === "string") return dir * x.localeCompare(y, locale);
      return dir * (x - y) || (a.code < b.code ? -1 : 1);
    };
  }

  function drawChildren(data) {
    var childLevel = data.child_level;
    $("gd-children-card").hidden = !childLevel;
    if (!childLevel) return;
    $("gd-children-title").textContent = data.unit.level === "department"
      ? S.childTitles.departmentSubdistrict : S.childTitles[childLevel];
    var head = $("gd-children-head");
    head.replaceChildren.apply(head, ["name"].concat(COLUMNS).map(function (key) {
      var button = el("button", "gd-sort", key === "name" ? S.name : S.metrics[key]);
      button.type = "button";
      button.addEventListener("click", function () {
        state.sort = { key: key, dir: state.sort.key === key ? -state.sort.dir : (key === "name" ? 1 : -1) };
        drawChildren(state.data);
      });
      var th = el("th", null, button);
      th.scope = "col";
      if (state.sort.key === key) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
      return th;
    }));
    var worst = worstOf(data.children);
    var rows = data.children.slice().sort(compare(state.sort.key, state.sort.dir)).map(function (c) {
      var link = el("a", "gc-link", c.name);
      link.href = "?" + new URLSearchParams(Object.assign({}, state.params,
        data.unit.level === "department" ? { level: "subdistrict", code: c.code } : { level: childLevel, code: c.code }));
      var cells = [el("th", null, [link, " ", el("code", "gc-code", c.code)])].concat(COLUMNS.map(function (key) {
        var td = el("td", "gd-num" + (worst[key] === c.code ? " gd-worst" : ""), formatMetric(key, c[key]));
        td.dataset.metric = key;
        return td;
      }));
      cells[0].scope = "row";
      var tr = el("tr", Object.values(worst).indexOf(c.code) >= 0 ? "gd-row-worst" : "", cells);
      tr.dataset.code = c.code;
      return tr;
    });
    $("gd-children-rows").replaceChildren.apply($("gd-children-rows"), rows);
    $("gd-children-empty").hidden = rows.length > 0;
  }

  function draw(data) {
    state.data = data;
    drawPath(data.unit);
    // A unit opened from the URL by code is shown by its name once the figures name it.
    if (!PICKED[state.params.level] && searchCode === data.unit.code && data.unit.name) {
      $("gd-unit-search").value = data.unit.name;
    }
    var kpis = $("gd-kpis");
    kpis.replaceChildren.apply(kpis, KPIS.map(function (key) { return kpiCard(key, data.total); }));
    $("gd-from").value = data.from;
    $("gd-to").value = data.to;
    // An empty unit says so in words, so that "无数据" everywhere is never the only answer.
    // Opened on the busiest district (no unit asked for): the page says why it shows that one.
    var busiest = state.home && state.home.busiest && state.params.level === state.home.level &&
      state.params.code === state.home.code;
    $("gd-status").textContent = (busiest ? C.fmt(S.busiestUnit, { unit: data.unit.name }) + " " : "") +
      (data.total.cases ? "" : C.fmt(S.emptyUnit, { unit: data.unit.name }) + " ") +
      C.fmt(S.updated, { time: C.localTime(data.as_of) });
    $("gd-status").classList.toggle("gd-status-empty", !data.total.cases);
    if (window.echarts) {
      drawMonths(data.months);
      drawCategories(data.top_categories);
    }
    drawStates(data.states);
    drawChildren(data);
  }

  // ---------------------------------------------------------------- loading

  function load() {
    if (state.controller) state.controller.abort();
    var controller = new AbortController();
    state.controller = controller;
    $("gd-error").hidden = true;
    C.getJSON("/cases/stats", state.params, controller.signal).then(draw).catch(function (err) {
      if (C.isAbort(err)) return;
      $("gd-error").textContent = C.fmt(S.loadFailed, { reason: C.reasonOf(err) });
      $("gd-error").hidden = false;
    }).finally(function () {
      if (state.controller === controller) state.controller = null;
    });
  }

  function apply() {
    var level = $("gd-level").value;
    var code = PICKED[level] ? $("gd-unit-select").value : searchCode;
    if (!code) {
      $("gd-error").textContent = S.chooseUnit;
      $("gd-error").hidden = false;
      return;
    }
    state.params = { level: level, code: code };
    if ($("gd-from").value) state.params.from = $("gd-from").value;
    if ($("gd-to").value) state.params.to = $("gd-to").value;
    window.history.replaceState(null, "", window.location.pathname + "?" + new URLSearchParams(state.params));
    load();
  }

  function start() {
    var params = new URLSearchParams(window.location.search);
    // Without a unit in the URL: the server's home (the person's area, or the busiest district).
    var home = !params.get("level") && !params.get("code") && config.home;
    state.home = home || null;
    var asked = home ? home.level : params.get("level");
    var level = Array.prototype.some.call($("gd-level").options, function (o) { return o.value === asked; })
      ? asked : "district";
    var first = PICKED[level] && (config[PICKED[level]] || [])[0];
    var code = (home && home.code) || params.get("code") || (first ? first.code : "");
    $("gd-level").value = level;
    showPicker(level, code);
    if (!PICKED[level]) searchCode = code || null;
    if (!PICKED[level] && code) $("gd-unit-search").value = code;
    ["from", "to"].forEach(function (key) { if (params.get(key)) $("gd-" + key).value = params.get(key); });
    if (!window.echarts) {
      $("gd-error").textContent = S.echartsMissing;
      $("gd-error").hidden = false;
    }
    apply();
  }

  $("gd-form").addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  $("gd-level").addEventListener("change", function () {
    searchCode = null;
    $("gd-unit-search").value = "";
    showPicker($("gd-level").value, null);
    if (PICKED[$("gd-level").value]) apply();
  });
  $("gd-unit-select").addEventListener("change", apply);
  $("gd-unit-search").addEventListener("input", function (e) {
    searchCode = null;
    search(e.target.value.trim(), $("gd-level").value);
  });
  window.addEventListener("resize", C.debounce(function () {
    Object.keys(state.charts).forEach(function (id) { state.charts[id].resize(); });
  }, 150));

  start();
  window.gridmap = { state: state, isIdle: function () { return !state.controller && Boolean(state.data); } };
})();
