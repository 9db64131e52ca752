/* Digital-twin map: layer tree, popups with linked records, selection and attribute queries,
   measuring, thematic and heat maps, village focus view, PNG export, locate me.
   Base map drawn from the town's own data; no inline scripts (CSP). */
(function () {
  "use strict";

  var configEl = document.getElementById("geo-config");
  var mapEl = document.getElementById("geo-map");
  if (!configEl || !mapEl) { return; }
  var config = JSON.parse(configEl.textContent);
  var T = {
    zh: document.documentElement.lang && document.documentElement.lang.indexOf("zh") === 0
  };
  function t(en, zh) { return T.zh ? zh : en; }

  function esc(text) {
    return String(text === null || text === undefined ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { var e = new Error(JSON.stringify(body)); e.body = body; throw e; }
        return body;
      });
    });
  }
  function qs(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] !== null && params[k] !== undefined; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  var map = L.map(mapEl, { preferCanvas: true, zoomControl: true, tap: true });
  map.setView([config.center[1], config.center[0]], 14);
  window.zhiliMap = map;  // for tests and the browser console
  L.control.scale({ imperial: false }).addTo(map);
  var renderer = L.canvas({ padding: 0.3 });
  var state = { layers: {}, meta: {}, mode: "", drawn: [], drawLayer: L.layerGroup().addTo(map), selection: L.geoJSON(null, {
    renderer: renderer, style: { color: "#ff00aa", weight: 3, fillOpacity: 0.15 },
    pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 7, renderer: renderer }); }
  }).addTo(map), results: [], resultLayer: null, thematic: null, village: null };

  // ---------------------------------------------------------------- styles

  function colorsFor(style, props) {
    var color = style.fill_color, stroke = style.stroke_color;
    if (style.kind === "categorized" && style.attribute) {
      (style.classes || []).forEach(function (c) { if (String(c.value) === String(props[style.attribute])) { color = stroke = c.color; } });
    } else if (style.kind === "graduated" && style.attribute) {
      var v = parseFloat(props[style.attribute]);
      (style.classes || []).forEach(function (c) { if (v >= c.min && v <= c.max) { color = stroke = c.color; } });
    }
    return { fill: color, stroke: stroke };
  }
  function leafletStyle(meta, opacity) {
    return function (feature) {
      var c = colorsFor(meta.style, feature.properties || {});
      var lineOnly = meta.geometry_types.join(",").indexOf("Polygon") < 0;
      return {
        color: c.stroke, weight: meta.style.stroke_width || 1, opacity: opacity,
        fillColor: c.fill, fillOpacity: lineOnly ? 0 : (meta.style.fill_opacity || 0.4) * opacity, renderer: renderer
      };
    };
  }

  // ---------------------------------------------------------------- layers

  function loadLayer(name) {
    var entry = state.layers[name];
    if (!entry || !entry.visible) { return Promise.resolve(); }
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
    var token = (entry.token = (entry.token || 0) + 1);
    return getJSON(entry.meta.features_url + "?" + qs({ bbox: bbox, limit: 20000 })).then(function (data) {
      if (token !== entry.token) { return; }
      entry.group.clearLayers();
      entry.group.addData(data);
      restack();
      entry.count = data.numberReturned;
      entry.total = data.numberMatched;
      var note = document.querySelector('[data-layer-count="' + name + '"]');
      if (note) { note.textContent = data.numberMatched > data.numberReturned ? data.numberReturned + "/" + data.numberMatched : String(data.numberReturned); }
    });
  }
  // Canvas draws (and hit-tests) in the order features were added: whichever layer's reload
  // finished last would end up on top. Restore the layer-tree order, overlays above it.
  function restack() {
    Object.keys(state.layers).map(function (name) { return state.layers[name]; })
      .sort(function (a, b) { return (a.meta.order - b.meta.order) || (a.meta.name < b.meta.name ? -1 : 1); })
      .forEach(function (entry) { if (map.hasLayer(entry.group)) { entry.group.bringToFront(); } });
    [state.thematic, state.village, state.selection].forEach(function (overlay) {
      if (overlay && overlay.bringToFront && map.hasLayer(overlay)) { overlay.bringToFront(); }
    });
  }

  var refreshes = 0;
  function refreshAll() {
    return Promise.all(Object.keys(state.layers).map(loadLayer)).then(function () {
      refreshes += 1;
      mapEl.dataset.refreshes = String(refreshes);  // lets tests wait for the layers of a new view
    });
  }

  function legendHtml(meta) {
    var s = meta.style;
    var rows = [];
    if (s.kind !== "single" && s.classes && s.classes.length) {
      s.classes.forEach(function (c) {
        rows.push('<div><span class="swatch" data-color="' + esc(c.color) + '"></span> ' + esc(c.label || (c.value !== undefined ? c.value : c.min + "–" + c.max)) + "</div>");
      });
    }
    return rows.join("");
  }

  function buildTree(layers) {
    var tree = document.getElementById("geo-layer-tree");
    tree.innerHTML = "";
    layers.forEach(function (meta) {
      var visible = config.baseLayers.indexOf(meta.name) >= 0 ? meta.style.visible !== false : false;
      var group = L.geoJSON(null, {
        style: leafletStyle(meta, 1),
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5, renderer: renderer }); },
        onEachFeature: function (f, l) { l.on("click", function (e) { if (!state.mode) { L.DomEvent.stop(e); showFeature(meta.name, f, e.latlng); } }); }
      });
      state.layers[meta.name] = { meta: meta, group: group, visible: visible, opacity: 1 };
      state.meta[meta.name] = meta;
      var row = document.createElement("div");
      row.className = "layer-item";
      row.innerHTML = '<div class="layer-row">' +
        '<input class="form-check-input" type="checkbox" id="lyr-' + esc(meta.name) + '" data-layer="' + esc(meta.name) + '"' + (visible ? " checked" : "") + ">" +
        '<span class="swatch"></span>' +
        '<label class="form-check-label flex-grow-1" for="lyr-' + esc(meta.name) + '">' + esc(meta.title) + ' <span class="text-body-secondary" data-layer-count="' + esc(meta.name) + '"></span></label>' +
        '<input type="range" min="0" max="100" value="100" aria-label="' + esc(t("Opacity", "透明度")) + '" data-opacity="' + esc(meta.name) + '">' +
        (meta.can_export ? '<a class="text-decoration-none" title="' + esc(t("Export", "导出")) + '" href="' + esc(meta.export_url) + '?format=gpkg"><i class="bi bi-download"></i></a>' : "") +
        (meta.can_import ? '<a class="text-decoration-none" title="' + esc(t("Import", "导入")) + '" href="' + esc(meta.import_url) + '"><i class="bi bi-upload"></i></a>' : "") +
        '</div><div class="legend">' + legendHtml(meta) + "</div>";
      var sw = row.querySelector(".swatch");
      sw.style.borderColor = meta.style.stroke_color;
      sw.style.backgroundColor = meta.style.fill_color;
      row.querySelectorAll(".legend .swatch").forEach(function (el) { el.style.borderColor = el.dataset.color; el.style.backgroundColor = el.dataset.color; });
      tree.appendChild(row);
      if (visible) { group.addTo(map); }
    });
    tree.addEventListener("change", function (e) {
      var name = e.target.dataset.layer;
      if (!name) { return; }
      var entry = state.layers[name];
      entry.visible = e.target.checked;
      if (entry.visible) { entry.group.addTo(map); loadLayer(name); } else { map.removeLayer(entry.group); }
    });
    tree.addEventListener("input", function (e) {
      var name = e.target.dataset.opacity;
      if (!name) { return; }
      var entry = state.layers[name];
      entry.opacity = e.target.value / 100;
      entry.group.setStyle(leafletStyle(entry.meta, entry.opacity));
    });
  }

  // ---------------------------------------------------------------- popups

  function labelOf(meta, name, value) {
    var field = (meta.fields || []).filter(function (f) { return f.name === name; })[0];
    if (field && field.choices && field.choices[String(value)] !== undefined) { return field.choices[String(value)]; }
    if (value === true) { return t("Yes", "是"); }
    if (value === false) { return t("No", "否"); }
    return value;
  }
  function fieldTitle(meta, name) {
    var field = (meta.fields || []).filter(function (f) { return f.name === name; })[0];
    return field ? field.title : name;
  }

  function featureUrl(layer, id) {
    return config.feature_url.replace("LAYER", encodeURIComponent(layer)).replace(/\/0\/$/, "/" + id + "/");
  }

  function showFeature(layer, feature, latlng) {
    var meta = state.meta[layer];
    var id = String(feature.id).split(".").pop();
    var popup = L.popup({ maxWidth: 340, className: "geo-popup" }).setLatLng(latlng).setContent(t("Loading…", "加载中…")).openOn(map);
    getJSON(featureUrl(layer, id)).then(function (data) {
      var rows = Object.keys(data.properties).filter(function (k) { return ["display", "created_by", "updated_by", "owner_unit"].indexOf(k) < 0; })
        .map(function (k) {
          var v = labelOf(meta, k, data.properties[k]);
          return v === null || v === "" ? "" : "<tr><th>" + esc(fieldTitle(meta, k)) + "</th><td>" + esc(v) + "</td></tr>";
        }).join("");
      var measures = data.measures || {};
      var m = measures.area_m2 !== undefined ? t("Area", "面积") + " " + measures.area_m2.toLocaleString() + " m²" :
        (measures.length_m !== undefined ? t("Length", "长度") + " " + measures.length_m.toLocaleString() + " m" : "");
      var related = (data.related || []).map(function (group) {
        return '<div class="related mt-1" data-related="' + esc(group.model) + '"><div class="fw-semibold">' + esc(group.title) + " (" + group.total + ")</div>" +
          group.items.map(function (item) {
            var extra = [item.age !== undefined ? item.age + t(" y", "岁") : "", item.household_type || "", item.residence_type || ""].filter(Boolean).join(" · ");
            return '<div class="resident-card"><a href="' + esc(item.url) + '">' + esc(item.text) + "</a> <span class=\"text-body-secondary\">" + esc(extra) + "</span></div>";
          }).join("") + "</div>";
      }).join("");
      popup.setContent('<div class="geo-feature" data-feature="' + esc(data.id) + '"><div class="fw-bold mb-1">' + esc(data.title) + ": " + esc(data.properties.display || id) + "</div>" +
        '<table class="mb-1"><tbody>' + rows + "</tbody></table>" + (m ? '<div class="small">' + esc(m) + "</div>" : "") +
        (data.url ? '<a class="small" href="' + esc(data.url) + '">' + esc(t("Open detail page", "打开详情页")) + " →</a>" : "") + related + "</div>");
    }).catch(function () { popup.setContent(t("Could not load this feature.", "无法加载此要素。")); });
  }

  // ---------------------------------------------------------------- modes (select, measure)

  var readout = document.getElementById("geo-measure");
  function setMode(mode) {
    state.mode = state.mode === mode ? "" : mode;
    state.drawn = [];
    state.drawLayer.clearLayers();
    readout.textContent = "";
    document.querySelectorAll("[data-mode]").forEach(function (b) { b.classList.toggle("active", b.dataset.mode === state.mode); });
    mapEl.classList.toggle("leaflet-crosshair", !!state.mode);
    map.doubleClickZoom[state.mode ? "disable" : "enable"]();
  }
  document.querySelectorAll("[data-mode]").forEach(function (button) {
    button.addEventListener("click", function () { setMode(button.dataset.mode); });
  });

  function wkt(points, closed) {
    var pts = points.map(function (p) { return p.lng.toFixed(7) + " " + p.lat.toFixed(7); });
    if (closed) { pts.push(pts[0]); return "POLYGON ((" + pts.join(", ") + "))"; }
    return "LINESTRING (" + pts.join(", ") + ")";
  }
  function redraw() {
    state.drawLayer.clearLayers();
    var closed = state.mode === "measure-area" || state.mode === "select-polygon";
    if (state.drawn.length > 1) {
      (closed ? L.polygon(state.drawn, { color: "#d63384", weight: 2, renderer: renderer }) : L.polyline(state.drawn, { color: "#d63384", weight: 3, renderer: renderer })).addTo(state.drawLayer);
    }
    state.drawn.forEach(function (p) { L.circleMarker(p, { radius: 3, color: "#d63384", renderer: renderer }).addTo(state.drawLayer); });
  }
  function measure() {
    var area = state.mode === "measure-area";
    if (state.drawn.length < (area ? 3 : 2)) { return; }
    getJSON(config.measure_url + "?" + qs({ geometry: wkt(state.drawn, area) })).then(function (m) {
      readout.textContent = area ? t("Area ", "面积 ") + Math.round(m.area_m2).toLocaleString() + " m² · " + t("perimeter ", "周长 ") + Math.round(m.perimeter_m).toLocaleString() + " m"
        : t("Distance ", "距离 ") + m.length_m.toLocaleString() + " m";
      mapEl.dataset.measure = JSON.stringify(m);
    });
  }

  map.on("click", function (e) {
    var mode = state.mode;
    if (!mode) { return; }
    if (mode === "measure-line" || mode === "measure-area" || mode === "select-polygon") {
      state.drawn.push(e.latlng);
      redraw();
      if (mode !== "select-polygon") { measure(); }
    } else if (mode === "select-box") {
      state.drawn.push(e.latlng);
      if (state.drawn.length === 2) {
        var b = L.latLngBounds(state.drawn);
        L.rectangle(b, { color: "#d63384", weight: 2, renderer: renderer }).addTo(state.drawLayer);
        runSpatial({ op: "bbox", bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",") });
        state.drawn = [];
      } else { redraw(); }
    } else if (mode === "select-click") {
      var metresPerPixel = 40075016 * Math.cos(e.latlng.lat * Math.PI / 180) / Math.pow(2, map.getZoom() + 8);
      runSpatial({ op: "dwithin", lon: e.latlng.lng, lat: e.latlng.lat, distance: Math.max(1, metresPerPixel * 4).toFixed(1) });
    } else if (mode === "select-buffer") {
      var radius = document.getElementById("geo-buffer").value || 500;
      state.drawLayer.clearLayers();
      L.circle(e.latlng, { radius: +radius, color: "#d63384", weight: 2, fillOpacity: 0.05, renderer: renderer }).addTo(state.drawLayer);
      runSpatial({ op: "dwithin", lon: e.latlng.lng, lat: e.latlng.lat, distance: radius });
    }
  });
  function finish() {
    if (state.mode === "select-polygon" && state.drawn.length >= 3) {
      runSpatial({ op: "intersects", geometry: wkt(state.drawn, true) });
    }
    if (state.mode === "measure-line" || state.mode === "measure-area") { measure(); }
    var keep = readout.textContent;
    setMode(state.mode);
    readout.textContent = keep;
  }
  document.getElementById("geo-finish").addEventListener("click", finish);
  map.on("dblclick", function () { if (state.mode) { finish(); } });

  map.on("mousemove", function (e) {
    document.getElementById("geo-coords").textContent = e.latlng.lng.toFixed(6) + ", " + e.latlng.lat.toFixed(6) + " (CGCS2000)";
  });

  // ---------------------------------------------------------------- query & results

  var qLayer = document.getElementById("geo-q-layer");
  var qField = document.getElementById("geo-q-field");
  var status = document.getElementById("geo-q-status");

  function fillFields() {
    var meta = state.meta[qLayer.value];
    qField.innerHTML = "";
    if (!meta) { return; }
    meta.fields.filter(function (f) { return !f.sensitive && f.name !== "id"; }).forEach(function (f) {
      var o = document.createElement("option");
      o.value = f.name; o.textContent = f.title;
      qField.appendChild(o);
    });
    fillChoices();
  }
  function fillChoices() {
    var meta = state.meta[qLayer.value];
    var list = document.getElementById("geo-q-choices");
    list.innerHTML = "";
    var field = meta && meta.fields.filter(function (f) { return f.name === qField.value; })[0];
    if (field) {
      Object.keys(field.choices).forEach(function (k) { var o = document.createElement("option"); o.value = k; o.label = field.choices[k]; list.appendChild(o); });
    }
  }
  qLayer.addEventListener("change", fillFields);
  qField.addEventListener("change", fillChoices);

  function whereParams(prefix) {
    var value = document.getElementById("geo-q-value").value.trim();
    var params = {};
    if (value !== "" && qField.value) {
      var op = document.getElementById("geo-q-op").value;
      params[prefix + qField.value + (op ? "__" + op : "")] = value;
    }
    return params;
  }

  function runSpatial(params) {
    params.layer = qLayer.value;
    Object.assign(params, whereParams("where."));
    status.textContent = t("Searching…", "查询中…");
    getJSON(config.query_url + "?" + qs(params)).then(showResults).catch(showError);
  }
  document.getElementById("geo-q-run").addEventListener("click", function () {
    var meta = state.meta[qLayer.value];
    if (!meta) { return; }
    var b = map.getBounds();
    var params = whereParams("");
    params.limit = 5000;
    status.textContent = t("Searching…", "查询中…");
    getJSON(meta.features_url + "?" + qs(params)).then(showResults).catch(showError);
    void b;
  });
  document.getElementById("geo-q-clear").addEventListener("click", function () {
    state.selection.clearLayers(); state.drawLayer.clearLayers(); state.results = [];
    document.querySelector("#geo-results thead").innerHTML = ""; document.querySelector("#geo-results tbody").innerHTML = "";
    status.textContent = ""; document.getElementById("geo-export-btn").disabled = true;
  });
  function showError(err) {
    var body = err.body || {};
    status.textContent = t("Query failed: ", "查询失败：") + Object.keys(body).map(function (k) { return [].concat(body[k]).join(" "); }).join("; ");
  }

  function showResults(data) {
    var meta = state.meta[qLayer.value];
    state.results = data.features;
    state.selection.clearLayers();
    state.selection.addData(data);
    status.textContent = t("Found ", "共找到 ") + data.numberMatched + (data.numberMatched > data.features.length ? t(" (showing ", "（显示 ") + data.features.length + t(")", "）") : "") + t(" features", " 个要素");
    mapEl.dataset.results = String(data.features.length);
    var columns = meta.fields.filter(function (f) { return !f.sensitive && ["id", "created_at", "updated_at", "created_by", "updated_by", "data_source", "owner_unit"].indexOf(f.name) < 0; }).slice(0, 4);
    var head = "<tr><th>#</th>" + columns.map(function (c) { return "<th>" + esc(c.title) + "</th>"; }).join("") + (data.features.length && data.features[0].properties.distance_m !== undefined ? "<th>m</th>" : "") + "</tr>";
    document.querySelector("#geo-results thead").innerHTML = head;
    document.querySelector("#geo-results tbody").innerHTML = data.features.map(function (f, i) {
      return '<tr data-index="' + i + '"><td>' + (i + 1) + "</td>" + columns.map(function (c) { return "<td>" + esc(labelOf(meta, c.name, f.properties[c.name])) + "</td>"; }).join("") +
        (f.properties.distance_m !== undefined ? "<td>" + esc(f.properties.distance_m) + "</td>" : "") + "</tr>";
    }).join("");
    var ids = data.features.map(function (f) { return String(f.id).split(".").pop(); }).join(",");
    var menu = document.getElementById("geo-export-menu");
    menu.innerHTML = ["gpkg", "shp", "geojson", "kml", "dxf", "xlsx", "csv"].map(function (fmt) {
      return '<li><a class="dropdown-item" href="' + esc(meta.export_url + "?" + qs({ format: fmt, ids: ids })) + '">' + fmt.toUpperCase() + "</a></li>";
    }).join("");
    document.getElementById("geo-export-btn").disabled = !data.features.length || !meta.can_export;
    if (data.features.length) {
      var bounds = state.selection.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 18, padding: [20, 20] }); }
    }
  }
  document.querySelector("#geo-results tbody").addEventListener("click", function (e) {
    var tr = e.target.closest("tr[data-index]");
    if (!tr) { return; }
    document.querySelectorAll("#geo-results tr.active").forEach(function (r) { r.classList.remove("active"); });
    tr.classList.add("active");
    var feature = state.results[+tr.dataset.index];
    var gl = L.geoJSON(feature);
    var b = gl.getBounds();
    map.fitBounds(b, { maxZoom: 18 });
    showFeature(qLayer.value, feature, b.getCenter());
  });
  state.selection.on("click", function (e) {
    var feature = e.layer.feature;
    var index = state.results.indexOf(feature);
    var tr = document.querySelector('#geo-results tr[data-index="' + index + '"]');
    document.querySelectorAll("#geo-results tr.active").forEach(function (r) { r.classList.remove("active"); });
    if (tr) { tr.classList.add("active"); tr.scrollIntoView({ block: "nearest" }); }
    if (!state.mode) { showFeature(qLayer.value, feature, e.latlng); }
  });

  // ---------------------------------------------------------------- thematic maps

  var thematicSelect = document.getElementById("geo-thematic");
  thematicSelect.addEventListener("change", function () {
    if (state.thematic) { map.removeLayer(state.thematic); state.thematic = null; }
    var legend = document.getElementById("geo-thematic-legend");
    legend.innerHTML = "";
    var url = thematicSelect.value;
    if (!url) { return; }
    getJSON(url).then(function (data) {
      if (data.kind === "heat") {
        state.thematic = L.heatLayer(data.points, { radius: 18, blur: 14, max: data.max, maxZoom: 17 }).addTo(map);
        legend.textContent = data.title + " · " + data.points.length + t(" places", " 处");
      } else {
        state.thematic = L.geoJSON(data, {
          renderer: renderer,
          style: function (f) { return { color: "#555", weight: 1, fillColor: f.properties.color, fillOpacity: 0.7 }; },
          onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name) + ": " + esc(f.properties.value)); }
        }).addTo(map);
        legend.innerHTML = "<div class=\"fw-semibold\">" + esc(data.title) + "</div>" + data.classes.map(function (c) {
          return '<div><span class="swatch" data-color="' + esc(c.color) + '"></span> ' + esc(c.min) + " – " + esc(c.max) + "</div>";
        }).join("");
        legend.querySelectorAll(".swatch").forEach(function (el) { el.style.display = "inline-block"; el.style.width = "14px"; el.style.height = "14px"; el.style.backgroundColor = el.dataset.color; });
      }
      mapEl.dataset.thematic = data.kind;
    });
  });

  // ---------------------------------------------------------------- village focus view

  var villageSelect = document.getElementById("geo-village");
  var typeSelect = document.getElementById("geo-household-type");
  var TYPE_COLORS = { permanent: "#198754", floating: "#fd7e14", empty: "#6c757d" };
  function loadVillage() {
    if (state.village) { map.removeLayer(state.village); state.village = null; }
    var id = villageSelect.value;
    var summary = document.getElementById("geo-village-summary");
    summary.innerHTML = "";
    if (!id) { return; }
    var url = config.village_url.replace(/\/0\/$/, "/" + id + "/") + "?" + qs({ household_type: typeSelect.value });
    getJSON(url).then(function (data) {
      var group = L.featureGroup();
      if (data.division.geometry) {
        L.geoJSON(data.division.geometry, { style: { color: "#dc3545", weight: 4, fillOpacity: 0.04 }, renderer: renderer, interactive: false }).addTo(group);
      }
      L.geoJSON(data, {
        renderer: renderer,
        style: function (f) {
          var h = f.properties.households || {};
          var top = Object.keys(h).sort(function (a, b) { return h[b] - h[a]; })[0];
          var color = TYPE_COLORS[typeSelect.value || top] || "#0d6efd";
          return { color: color, weight: 1, fillColor: color, fillOpacity: 0.75 };
        },
        onEachFeature: function (f, l) { l.on("click", function (e) { L.DomEvent.stop(e); showFeature("places.building", f, e.latlng); }); }
      }).addTo(group);
      state.village = group.addTo(map);
      var b = group.getBounds();
      if (b.isValid()) { map.fitBounds(b, { padding: [10, 10] }); }
      summary.innerHTML = "<div class=\"fw-semibold\">" + esc(data.division.name) + "</div><div>" + t("Buildings shown: ", "显示建筑：") + data.features.length + "</div>" +
        Object.keys(data.household_types).map(function (k) {
          return '<div><span class="swatch" data-color="' + esc(TYPE_COLORS[k] || "#0d6efd") + '"></span> ' + esc(data.household_types[k]) + ": " + (data.totals[k] || 0) + "</div>";
        }).join("");
      summary.querySelectorAll(".swatch").forEach(function (el) { el.style.display = "inline-block"; el.style.width = "12px"; el.style.height = "12px"; el.style.backgroundColor = el.dataset.color; });
      mapEl.dataset.village = String(data.features.length);
    });
  }
  villageSelect.addEventListener("change", loadVillage);
  typeSelect.addEventListener("change", loadVillage);

  // ---------------------------------------------------------------- PNG, locate

  document.getElementById("geo-png").addEventListener("click", function () {
    var size = map.getSize();
    var out = document.createElement("canvas");
    out.width = size.x; out.height = size.y;
    var ctx = out.getContext("2d");
    ctx.fillStyle = "#eef2f5";
    ctx.fillRect(0, 0, size.x, size.y);
    var origin = mapEl.getBoundingClientRect();
    mapEl.querySelectorAll("canvas").forEach(function (c) {
      var r = c.getBoundingClientRect();
      try { ctx.drawImage(c, r.left - origin.left, r.top - origin.top, r.width, r.height); } catch (err) { /* tainted canvas: skipped */ }
    });
    ctx.fillStyle = "#000";
    ctx.font = "12px sans-serif";
    var c = map.getCenter();
    ctx.fillText("CGCS2000 " + c.lng.toFixed(5) + ", " + c.lat.toFixed(5) + "  z" + map.getZoom(), 8, size.y - 8);
    out.toBlob(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "zhili-map.png";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }, "image/png");
  });

  var me = null;
  document.getElementById("geo-locate").addEventListener("click", function () { map.locate({ setView: true, maxZoom: 17, enableHighAccuracy: true }); });
  map.on("locationfound", function (e) {
    if (me) { map.removeLayer(me); }
    me = L.layerGroup([L.circle(e.latlng, { radius: e.accuracy, weight: 1, fillOpacity: 0.1 }), L.circleMarker(e.latlng, { radius: 6, color: "#0d6efd", fillOpacity: 1 })]).addTo(map);
  });
  map.on("locationerror", function (e) { document.getElementById("geo-measure").textContent = t("Location unavailable: ", "无法定位：") + e.message; });

  // ---------------------------------------------------------------- start

  var moveTimer = null;
  map.on("moveend", function () { clearTimeout(moveTimer); moveTimer = setTimeout(refreshAll, 250); });

  getJSON(config.layers_url).then(function (data) {
    config.baseLayers = data.base_layers;
    if (data.base_tile_url) {
      L.tileLayer(data.base_tile_url, { maxZoom: 20, attribution: "" }).addTo(map).bringToBack();
    }
    buildTree(data.layers);
    data.layers.forEach(function (meta) {
      var o = document.createElement("option");
      o.value = meta.name; o.textContent = meta.title;
      qLayer.appendChild(o);
    });
    qLayer.value = state.meta["places.building"] ? "places.building" : (data.layers[0] || {}).name || "";
    fillFields();
    data.thematic.forEach(function (th) {
      var o = document.createElement("option");
      o.value = th.url; o.textContent = th.title;
      thematicSelect.appendChild(o);
    });
    // Start on the town: the extent of the divisions layer, if any.
    var start = state.meta["places.division"] ? getJSON(state.meta["places.division"].features_url + "?limit=1000") : Promise.resolve(null);
    return start.then(function (divisions) {
      if (divisions && divisions.features.length) {
        var b = L.geoJSON(divisions).getBounds();
        if (b.isValid()) { map.fitBounds(b, { animate: false }); }
      }
      return refreshAll();
    });
  }).then(function () {
    mapEl.dataset.loaded = "true";
  }).catch(function () { mapEl.dataset.loaded = "error"; });
})();
