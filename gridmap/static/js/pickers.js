/*
 * gridmap — pickers by name (区域 / 部门选择器), shared by every page that filters by area or
 * department: people type a name, never a 15-digit code or `housing`.
 *
 * Needs common.js (window.Gridmap), css/pickers.css and the picker strings in the page
 * ({% import "_pickers.html" as pickers %} … {{ pickers.strings() }}). Exposes window.GridmapPickers:
 *
 *   var picker = GridmapPickers.area(input, {
 *     levels: ["district", "subdistrict", "community", "grid"],  // which units (default: all four)
 *     onPick: function (unit) { … },  // unit = {level, code, name, context}, or null when cleared
 *   });
 *   var dept = GridmapPickers.department(input, { onPick: function (unit) { … } });  // level "department"
 *
 *   picker.value()    the picked unit or null
 *   picker.set(code)  show the unit with this code (its name is looked up); "" or null clears
 *   picker.clear()    forget the pick and empty the input
 *   picker.problem()  null, or the message to show when the input holds text that is not a pick
 *
 * Areas come from GET /api/search (names and code prefixes; districts first, then sub-districts,
 * communities, grids, each with where it lies), departments from GET /api/departments (searched
 * here, by name or code). The input becomes an ARIA combobox: ↑/↓ move, Enter picks, Esc closes.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var S = G.readJSON("gm-picker-strings");
  var AREA_LEVELS = ["district", "subdistrict", "community", "grid"];
  var MAX_SHOWN = 12;
  var serial = 0;

  /** A combobox on `input`; `find(text)` resolves to [{level, code, name, context}]. */
  function combobox(input, find, options) {
    var onPick = options.onPick || function () {};
    var list = G.el("ul", "gm-picker-list");
    var id = "gm-picker-" + (++serial);
    var picked = null;
    var hits = [];
    var active = -1;
    var asked = 0;
    list.id = id;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", id);
    input.setAttribute("aria-expanded", "false");
    input.autocomplete = "off";
    var wrap = G.el("span", "gm-picker");
    input.parentNode.insertBefore(wrap, input);
    wrap.append(input, list);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function pick(unit, quiet) {
      picked = unit;
      input.value = unit ? unit.name : "";
      input.title = unit ? (S.levels[unit.level] || "") + " · " + unit.name + (unit.context ? " · " + unit.context : "") : "";
      input.dataset.code = unit ? unit.code : "";
      close();
      if (!quiet) onPick(unit);
    }

    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", String(j === i)); });
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      }
    }

    function show(found) {
      hits = found.slice(0, MAX_SHOWN);
      var items = hits.map(function (unit, i) {
        var li = G.el("li", "gm-picker-option", [
          G.el("span", "gm-picker-name", unit.name),
          G.el("small", null, [S.levels[unit.level] || unit.level, unit.context ? " · " + unit.context : ""]),
        ]);
        li.id = id + "-" + i;
        li.setAttribute("role", "option");
        li.dataset.code = unit.code;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(unit); });
        return li;
      });
      list.replaceChildren.apply(list, items.length ? items : [G.el("li", "gm-picker-empty", S.noMatch)]);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    var lookup = G.debounce(function (text) {
      var mine = ++asked;
      find(text).then(function (found) { if (mine === asked && input.value.trim() === text) show(found); })
        .catch(function () { if (mine === asked) show([]); });
    }, 200);

    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (picked) { picked = null; input.dataset.code = ""; onPick(null); }
      if (!text) { close(); return; }
      lookup(text);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden || !hits.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        var step = e.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + hits.length) % hits.length);
      } else if (e.key === "Enter") {
        e.preventDefault();  // a form around the picker is submitted by its own button
        pick(hits[active >= 0 ? active : 0]);
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });

    return {
      value: function () { return picked; },
      clear: function () { pick(null, true); },
      problem: function () {
        return !picked && input.value.trim() ? G.fmt(S.notPicked, { text: input.value.trim() }) : null;
      },
      set: function (code) {
        if (!code) { pick(null, true); return Promise.resolve(null); }
        input.value = code;
        return find(code).then(function (found) {
          var unit = found.find(function (u) { return u.code === code; }) || null;
          if (unit) pick(unit, true);
          return unit;
        });
      },
    };
  }

  /** An area picker (district → sub-district → community → grid) on `input`. */
  function area(input, options) {
    options = options || {};
    var levels = options.levels || AREA_LEVELS;
    return combobox(input, function (text) {
      return G.getJSON("/search", { q: text, limit: 50 }).then(function (body) {
        return (body.results || []).filter(function (r) { return levels.indexOf(r.kind) >= 0; })
          .map(function (r) { return { level: r.kind, code: r.code, name: r.name, context: r.context || "" }; });
      });
    }, options);
  }

  var departments = null;

  /** A department picker on `input` (the few dozen departments, searched by name or code). */
  function department(input, options) {
    return combobox(input, function (text) {
      departments = departments || G.getJSON("/departments", {});
      var needle = text.toLowerCase();
      return departments.then(function (all) {
        return all.filter(function (d) {
          return d.name.toLowerCase().indexOf(needle) >= 0 || d.code.indexOf(needle) >= 0;
        }).map(function (d) { return { level: "department", code: d.code, name: d.name, context: "" }; });
      });
    }, options || {});
  }

  window.GridmapPickers = { area: area, department: department, AREA_LEVELS: AREA_LEVELS };
})();
