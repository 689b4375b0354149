/*
 * gridmap — an area field of a plain (server-posted) form, picked by name (js/pickers.js).
 *
 * The page renders <input name="area_code" data-area-field="district subdistrict community"
 * aria-describedby="PROBLEM-ID"> holding the code (so the form still works without script) and
 * an empty <p id="PROBLEM-ID" class="gm-picker-problem" role="alert" hidden>. Here the input shows
 * the unit's name, a hidden input takes over its name and posts the picked unit's code, and a
 * name that was typed but not picked from the list stops the submit with a message under the
 * field (never the browser's "Please match the requested format").
 */
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("input[data-area-field]"), function (input) {
    var form = input.form;
    var problemBox = document.getElementById(input.getAttribute("aria-describedby") || "");
    var code = document.createElement("input");
    code.type = "hidden";
    code.name = input.name;
    code.value = input.value.trim();
    input.removeAttribute("name");
    input.after(code);

    function problem(text) {
      if (problemBox) { problemBox.textContent = text || ""; problemBox.hidden = !text; }
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }

    var levels = (input.dataset.areaField || "").split(/\s+/).filter(Boolean);
    var picker = window.GridmapPickers.area(input, {
      levels: levels.length ? levels : undefined,
      onPick: function (unit) { code.value = unit ? unit.code : ""; problem(null); },
    });
    // An existing code is shown by its name; a code no unit has stays visible, to be corrected.
    if (code.value) picker.set(code.value);

    input.addEventListener("input", function () {
      code.value = "";
      problem(null);
    });
    input.addEventListener("change", function () { problem(picker.problem()); });
    if (form) {
      form.addEventListener("submit", function (e) {
        var text = picker.problem();
        if (text) { e.preventDefault(); problem(text); input.focus(); }
      });
    }
  });
})();
