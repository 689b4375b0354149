/*
 * gridmap — export from the map page (导出此图层), for the roles the export API admits (the
 * page loads this script only for them; the API still checks). Two places:
 *   - a control under the layer panel: layer × area (everything I may export, or the district,
 *     sub-district or community at the centre of the view) × format × CRS;
 *   - the location popup: "导出该区域的…" for its community, sub-district or district.
 * Both are plain links to GET /api/exports/<layer>.<format>?crs=…&<level>=<code>, so the
 * browser downloads the file itself. map.js calls attach() once its layers are built and
 * forLocation() for each popup. Texts come from #gm-export-strings.
 */
(function () {
  "use strict";

  var G = window.Gridmap;
  var el = G.el;
  var fmt = G.fmt;
  var X = JSON.parse(document.getElementById("gm-export-strings").textContent);
  var LEVELS = ["community", "subdistrict", "district"];   // finest first
  var VIEW_AREA_MINZOOM = 12;
  var state = { layers: [], crs: "wgs84", format: "geojson", map: null };

  function option(value, text, selected) {
    var node = el("option", null, text);
    node.value = value;
    if (selected) node.selected = true;
    return node;
  }

  function select(cls, label, options) {
    var node = el("select", "gm-export-select " + cls, options);
    node.setAttribute("aria-label", label);
    return node;
  }

  /** The export URL of a layer choice ("facilities:elder_care_station" = one facility type). */
  function exportUrl(layerChoice, format, crs, level, code) {
    var parts = layerChoice.split(":");
    var params = { crs: crs };
    if (parts[1]) params.type = parts[1];
    if (level && code) params[level] = code;
    return G.apiUrl("/exports/" + encodeURIComponent(parts[0]) + "." + format, params).toString();
  }

  function layerOptions(selected) {
    return state.layers.map(function (l) { return option(l.value, l.title, l.value === selected); });
  }

  function formatOptions(selected) {
    return X.formats.map(function (code) { return option(code, X.formatNames[code] || code, code === selected); });
  }

  function crsOptions(selected) {
    return X.crs.map(function (c) { return option(c.code, c.name, c.code === selected); });
  }

  /** Exportable layers of the map: boundaries, buildings, streets, and each facility type. */
  function exportable(mapLayers) {
    var seen = {};
    var out = [];
    mapLayers.forEach(function (layer) {
      var def = layer.def;
      if (X.layers.indexOf(def.name) < 0) return;
      var value = def.query && def.query.type ? def.name + ":" + def.query.type : def.name;
      if (seen[value]) return;
      seen[value] = true;
      out.push({ value: value, title: def.query && def.query.type ? fmt(X.facilityOf, { type: def.title }) : def.title });
    });
    return out;
  }

  /** Buildings when the map has them (what is most often asked for), else the first layer. */
  function preferredLayer() {
    return state.layers.some(function (l) { return l.value === "buildings"; }) ? "buildings" : state.layers[0].value;
  }

  // ---------------------------------------------------------------- the layer-panel control

  function buildControl(map) {
    var panel = el("form", "gm-export-form");
    panel.hidden = true;
    var layer = select("gm-export-layer", X.layer, layerOptions(preferredLayer()));
    var area = select("gm-export-area", X.area, [option("", X.allMine, true)]);
    var format = select("gm-export-format", X.format, formatOptions(state.format));
    var crs = select("gm-export-crs", X.crsLabel, crsOptions(state.crs));
    var link = el("a", "gm-export-link", X.download);
    link.setAttribute("download", "");
    var field = function (label, control) { return el("label", "gm-export-field", [el("span", null, label), control]); };
    panel.append(field(X.layer, layer), field(X.area, area), field(X.format, format), field(X.crsLabel, crs), link);
    var toggle = el("button", "gm-export-toggle", X.exportLayer);
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    var box = el("div", "gm-export", [toggle, panel]);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);

    function update() {
      state.crs = crs.value;
      state.format = format.value;
      var chosen = area.selectedOptions[0];
      link.href = exportUrl(layer.value, format.value, crs.value, chosen && chosen.dataset.level, area.value);
    }
    [layer, area, format, crs].forEach(function (s) { s.addEventListener("change", update); });
    toggle.addEventListener("click", function () {
      panel.hidden = !panel.hidden;
      toggle.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
      if (!panel.hidden) viewAreas(map, area, update);
    });
    panel.addEventListener("submit", function (e) { e.preventDefault(); });
    update();
    var Control = L.Control.extend({ options: { position: "topright" }, onAdd: function () { return box; } });
    new Control().addTo(map);
    map.on("moveend", G.debounce(function () { if (!panel.hidden) viewAreas(map, area, update); }, 300));
  }

  /** The areas at the centre of the view, as choices after "everything I may export". */
  var viewController = null;
  function viewAreas(map, area, update) {
    if (viewController) viewController.abort();
    var controller = new AbortController();
    viewController = controller;
    var centre = map.wrapLatLng(map.getCenter());
    // Zoomed out over a city the centre names no useful area: only "everything I may export".
    var asked = map.getZoom() < VIEW_AREA_MINZOOM ? Promise.resolve(null)
      : G.getJSON("/locate", { lon: centre.lng.toFixed(7), lat: centre.lat.toFixed(7) }, controller.signal);
    asked.then(function (data) { return data; }, function () { return null; })
      .then(function (data) {
        if (controller !== viewController) return;
        var keep = area.value;
        var options = [option("", X.allMine, !keep)];
        LEVELS.forEach(function (level) {
          var unit = data && data[level];
          if (!unit || !unit.code) return;
          var node = option(unit.code, fmt(X.inView, { name: unit.name }), unit.code === keep);
          node.dataset.level = level;
          options.push(node);
        });
        area.replaceChildren.apply(area, options);
        update();
      });
  }

  // ---------------------------------------------------------------- the popup

  /** "导出该区域的…": the popup's community, sub-district or district, any layer, any format. */
  function forLocation(data) {
    var units = LEVELS.filter(function (level) { return data[level] && data[level].code; });
    if (!units.length || !state.layers.length) return null;
    var area = select("gm-export-area", X.area, units.map(function (level, i) {
      var node = option(data[level].code, data[level].name, i === 0);
      node.dataset.level = level;
      return node;
    }));
    var layer = select("gm-export-layer", X.layer, layerOptions(preferredLayer()));
    var format = select("gm-export-format", X.format, formatOptions(state.format));
    var link = el("a", "gm-export-link", X.download);
    link.setAttribute("download", "");
    function update() {
      var chosen = area.selectedOptions[0];
      link.href = exportUrl(layer.value, format.value, state.crs, chosen.dataset.level, area.value);
    }
    [area, layer, format].forEach(function (s) { s.addEventListener("change", update); });
    update();
    return el("div", "gm-export-popup", [el("h4", null, X.exportArea),
      el("div", "gm-export-row", [area, layer]), el("div", "gm-export-row", [format, link])]);
  }

  window.GridmapMapExport = {
    attach: function (map, mapLayers) {
      state.map = map;
      state.layers = exportable(mapLayers);
      if (state.layers.length) buildControl(map);
    },
    forLocation: forLocation,
  };
})();
