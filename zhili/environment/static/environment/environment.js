/* Environment pages: dashboard, IOC big screen, station series, dust map, AQI badges.
   No inline scripts (strict CSP): pages pass URLs and data through data- attributes and json_script. */
(function () {
  "use strict";

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    });
  }
  function fmt(v, digits) { return v == null ? "—" : Number(v).toFixed(digits == null ? 0 : digits); }
  function textColour(hex) {
    var n = parseInt((hex || "#ffffff").slice(1), 16);
    var lum = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    return lum > 150 ? "#000" : "#fff";
  }
  function paintBadges(root) {
    root.querySelectorAll(".aqi-badge[data-colour]").forEach(function (el) {
      el.style.background = el.dataset.colour;
      el.style.color = textColour(el.dataset.colour);
    });
  }
  function chart(root, name, dark) {
    var el = root.querySelector('[data-chart="' + name + '"]');
    if (!el || !window.echarts) { return null; }
    var c = echarts.getInstanceByDom(el) || echarts.init(el, dark ? "dark" : null);
    if (dark) { c.setOption({ backgroundColor: "transparent" }); }
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }
  function fill(root, sel, html) { var el = root.querySelector(sel); if (el) { el.innerHTML = html; } }
  function setText(root, field, text) { var el = root.querySelector('[data-field="' + field + '"]'); if (el) { el.textContent = text; } }

  function aqiColour(categories, value) {
    if (value == null) { return "#999"; }
    for (var i = 0; i < categories.length; i++) {
      if (categories[i].high == null || value <= categories[i].high) { return categories[i].colour; }
    }
    return "#7E0023";
  }

  function drawRealtime(root, data, dark) {
    var town = data.realtime.town;
    var value = town ? town.computed_aqi : null;
    var g = chart(root, "gauge", dark);
    if (g) {
      var stops = data.categories.map(function (c) { return [Math.min((c.high || 500) / 500, 1), c.colour]; });
      g.setOption({
        series: [{
          type: "gauge", min: 0, max: 500, splitNumber: 5, radius: "95%",
          axisLine: { lineStyle: { width: 14, color: stops } },
          axisTick: { show: false }, splitLine: { length: 8 }, axisLabel: { fontSize: 10, distance: 18 },
          pointer: { width: 4 }, title: { offsetCenter: [0, "35%"] },
          detail: { formatter: value == null ? "NA" : "{value}", fontSize: 28, offsetCenter: [0, "65%"] },
          data: [{ value: value == null ? 0 : value, name: "AQI" }]
        }]
      });
    }
    setText(root, "hour", data.realtime.hour ? data.realtime.hour.replace("T", " ").slice(0, 16) + " UTC" : "");
    var badge = root.querySelector('[data-field="category"]');
    if (badge) {
      badge.textContent = town && town.category ? town.category : "NA";
      badge.classList.add("aqi-badge");
      badge.dataset.colour = town && town.colour ? town.colour : "#999999";
      paintBadges(root);
    }
    setText(root, "primary", town && town.primary_pollutants.length ? town.primary_pollutants.join(", ") : "—");
    fill(root, '[data-table="indicators"]', town ? town.indicators.map(function (r) {
      return "<tr><td>" + esc(r.indicator) + '</td><td class="text-end">' + esc(r.used_concentration == null ? "—" : r.used_concentration) +
        '</td><td class="text-end">' + esc(r.iaqi == null ? "—" : r.iaqi) + "</td></tr>";
    }).join("") : "");
    fill(root, '[data-table="stations"]', data.realtime.stations.map(function (s) {
      return '<tr><td><a href="' + esc(s.url) + '">' + esc(s.name) + '</a></td><td class="text-end">' + esc(s.computed_aqi == null ? "NA" : s.computed_aqi) +
        "</td><td>" + esc(s.category || "") + "</td><td>" + esc(s.primary_pollutants.join(", ")) + "</td></tr>";
    }).join(""));
  }

  function drawTrend(root, data, dark) {
    var c = chart(root, "trend", dark);
    if (!c) { return; }
    c.setOption({
      grid: { left: 40, right: 10, top: 20, bottom: 30 }, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.map(function (d) { return d.date.slice(5); }) },
      yAxis: { type: "value", name: "AQI" },
      series: [{ type: "bar", data: data.trend.map(function (d) {
        return { value: d.aqi, itemStyle: { color: aqiColour(data.categories, d.aqi) } };
      }) }]
    });
  }

  function drawGoodDays(root, data, dark) {
    var g = data.good_days;
    var c = chart(root, "good-days", dark);
    if (c) {
      c.setOption({
        grid: { left: 40, right: 10, top: 30, bottom: 30 }, tooltip: { trigger: "axis" },
        legend: { data: [String(g.year), String(g.year - 1)] },
        xAxis: { type: "category", data: g.days },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: String(g.year), type: "line", data: g.this_year, smooth: true },
          { name: String(g.year - 1), type: "line", data: g.last_year, smooth: true, lineStyle: { type: "dashed" } }
        ]
      });
    }
    setText(root, "good-days-summary", g.year + "-" + g.month + ": " + g.this_year_good + " / " + g.this_year_valid +
      " · " + (g.year - 1) + ": " + g.last_year_good + " / " + g.last_year_valid +
      (g.last_year_to_date == null ? "" : " (" + g.last_year_to_date + " ≤ " + g.this_year.filter(function (v) { return v != null; }).length + ")") +
      " · Δ " + (g.change > 0 ? "+" : "") + g.change);
  }

  function drawShares(root, data, dark) {
    var s = data.shares;
    var c = chart(root, "shares", dark);
    if (c) {
      c.setOption({
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "70%"], data: s.categories.filter(function (x) { return x.days; }).map(function (x) {
          return { name: x.name, value: x.days, itemStyle: { color: x.colour } };
        }) }]
      });
    }
    fill(root, '[data-table="shares"]', s.categories.map(function (x) {
      return "<tr><td>" + esc(x.name) + '</td><td class="text-end">' + x.days + '</td><td class="text-end">' + fmt(x.share, 1) +
        '</td><td class="text-end">' + (x.change == null ? "—" : (x.change > 0 ? "+" : "") + fmt(x.change, 1)) + "</td></tr>";
    }).join(""));
  }

  function drawRanking(root, data, dark) {
    fill(root, '[data-table="ranking"]', data.ranking.map(function (r) {
      return "<tr><td>" + r.rank + "</td><td>" + esc(r.division) + '</td><td class="text-end">' + fmt(r.mean_aqi, 1) +
        '</td><td class="text-end">' + fmt(r.good_ratio, 1) + '</td><td class="text-end">' + fmt(r.mean_pm25, 1) + "</td></tr>";
    }).join(""));
    var c = chart(root, "ranking", dark);
    if (c) {
      var rows = data.ranking.slice().reverse();
      c.setOption({
        grid: { left: 90, right: 20, top: 10, bottom: 20 }, tooltip: {},
        xAxis: { type: "value" }, yAxis: { type: "category", data: rows.map(function (r) { return r.division; }) },
        series: [{ type: "bar", data: rows.map(function (r) { return { value: r.mean_aqi, itemStyle: { color: aqiColour(data.categories, r.mean_aqi) } }; }) }]
      });
    }
  }

  function drawAttainment(root, data) {
    var a = data.attainment;
    var pollutants = ["so2", "no2", "pm10", "pm25", "co", "o3"];
    var head = "<tr><th></th>" + a.years.map(function (y) { return '<th class="text-end">' + y.year + "</th>"; }).join("") +
      '<th class="text-end">target</th><th class="text-end">gap</th></tr>';
    fill(root, '[data-table="attainment-head"]', head);
    var rows = pollutants.map(function (p) {
      return "<tr><td>" + p.toUpperCase() + "</td>" + a.years.map(function (y) {
        var v = y.statistics[p];
        return '<td class="text-end">' + (v == null ? "—" : fmt(v, p === "co" ? 2 : 1)) + (y.valid[p] ? "" : "*") + "</td>";
      }).join("") + '<td class="text-end">' + (a.targets[p] == null ? "" : a.targets[p]) + '</td><td class="text-end' +
        (a.gaps[p] > 0 ? " text-danger" : "") + '">' + (a.gaps[p] == null ? "" : fmt(a.gaps[p], 2)) + "</td></tr>";
    });
    rows.push("<tr><td>good days %</td>" + a.years.map(function (y) { return '<td class="text-end">' + fmt(y.good_ratio, 1) + "</td>"; }).join("") +
      '<td class="text-end">' + (a.targets.good_days == null ? "" : a.targets.good_days) + '</td><td class="text-end' + (a.gaps.good_days > 0 ? " text-danger" : "") + '">' +
      (a.gaps.good_days == null ? "" : fmt(a.gaps.good_days, 1)) + "</td></tr>");
    rows.push("<tr><td>composite</td>" + a.years.map(function (y) { return '<td class="text-end">' + fmt(y.composite, 2) + "</td>"; }).join("") +
      '<td class="text-end">' + (a.targets.composite == null ? "" : a.targets.composite) + '</td><td class="text-end">' +
      (a.gaps.composite == null ? "" : fmt(a.gaps.composite, 2)) + "</td></tr>");
    fill(root, '[data-table="attainment"]', rows.join(""));
  }

  function dashboard(root, dark) {
    function load() {
      return getJSON(root.dataset.url).then(function (data) {
        drawRealtime(root, data, dark);
        drawTrend(root, data, dark);
        drawGoodDays(root, data, dark);
        drawShares(root, data, dark);
        drawRanking(root, data, dark);
        if (root.querySelector('[data-table="attainment"]')) { drawAttainment(root, data); }
        root.dataset.loaded = "true";
      }).catch(function () { root.dataset.loaded = "error"; });
    }
    load();
    setInterval(load, 60000);
  }

  /* ---------------------------------------------------------------- IOC big screen */
  function iocMap(root) {
    var el = root.querySelector('[data-map="ioc"]');
    if (!el || !window.L) { return; }
    var map = L.map(el, { preferCanvas: true, zoomControl: false, attributionControl: false });
    map.setView([30.27, 119.96], 13);
    var devices = L.layerGroup().addTo(map);
    var sites = L.layerGroup().addTo(map);
    var fitted = false;
    (root.dataset.baseUrls || "").split(" ").filter(Boolean).forEach(function (url) {
      getJSON(url).then(function (fc) {
        L.geoJSON(fc, { interactive: false, style: { color: "#2f5d8a", weight: 1, fillOpacity: 0.05 } }).addTo(map).bringToBack();
      }).catch(function () { /* base layer is optional */ });
    });
    function colour(p) { return p.alarm ? "#ff4d4f" : (p.status === "online" ? "#52c41a" : "#8c8c8c"); }
    function loadDevices() {
      if (!root.dataset.devicesUrl) { return; }
      getJSON(root.dataset.devicesUrl).then(function (fc) {
        devices.clearLayers();
        var gl = L.geoJSON(fc, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, { radius: 5, color: colour(f.properties), fillOpacity: 0.9 });
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var vals = Object.keys(p.values || {}).map(function (k) { return esc(k) + " " + esc(p.values[k]); }).join("<br>");
            var link = root.dataset.stationUrl ? root.dataset.stationUrl.replace("/0/", "/" + p.id + "/") : p.url;
            layer.bindPopup('<a href="' + esc(link) + '"><strong>' + esc(p.name) + "</strong></a><br>" + esc(p.type) + " · " + esc(p.status_label) + "<br>" + vals);
          }
        }).addTo(devices);
        if (!fitted && gl.getBounds().isValid()) { map.fitBounds(gl.getBounds(), { maxZoom: 15 }); fitted = true; }
        root.dataset.devices = String(fc.features.length);
      }).catch(function () { /* keep the last state */ });
    }
    getJSON(root.dataset.sitesUrl).then(function (fc) {
      L.geoJSON(fc, { style: { color: "#faad14", weight: 2, fillOpacity: 0.15 },
        onEachFeature: function (f, layer) { layer.bindPopup('<a href="' + esc(f.properties.url) + '">' + esc(f.properties.name) + "</a>"); } }).addTo(sites);
    }).catch(function () { /* no sites layer */ });
    loadDevices();
    setInterval(loadDevices, 10000);
  }

  function iocAlarms(root) {
    var list = root.querySelector('[data-list="alarms"]');
    if (!list || !root.dataset.alarmsUrl) { return; }
    var cursor = root.dataset.cursor;
    var shown = {};
    function render(a) {
      var li = shown[a.id] || document.createElement("li");
      li.className = "sev-" + a.severity + (a.status === "closed" ? " closed" : "");
      li.innerHTML = '<a href="' + esc(a.url) + '">' + esc(a.raised_at.slice(5, 16)) + " " + esc(a.device_name) + " · " + esc(a.message) +
        "</a> <span>" + esc(a.status_label) + "</span>";
      if (!shown[a.id]) {
        var empty = list.querySelector(".muted");
        if (empty) { empty.remove(); }
        list.insertBefore(li, list.firstChild);
        shown[a.id] = li;
      }
      while (list.children.length > 30) { list.removeChild(list.lastChild); }
    }
    function poll() {
      getJSON(root.dataset.alarmsUrl + "?since=" + encodeURIComponent(cursor)).then(function (d) {
        d.alarms.forEach(render);
        cursor = d.cursor;
        root.dataset.alarms = String(Object.keys(shown).length);
      }).catch(function () { /* retry next time */ });
    }
    poll();  // what happened before the page opened
    if (window.EventSource && root.dataset.streamUrl) {
      // pushed by the IoT alarm stream (SSE); the browser reconnects with Last-Event-ID
      var source = new EventSource(root.dataset.streamUrl + "?since=" + encodeURIComponent(cursor));
      source.addEventListener("alarm", function (e) {
        render(JSON.parse(e.data));
        root.dataset.alarms = String(Object.keys(shown).length);
      });
      setInterval(poll, 60000);  // safety net if a proxy buffers the stream
    } else {
      setInterval(poll, 5000);
    }
  }

  function clock(root) {
    var el = root.querySelector('[data-field="clock"]');
    if (!el) { return; }
    function tick() { el.textContent = new Date().toLocaleString(); }
    tick();
    setInterval(tick, 1000);
  }

  /* ---------------------------------------------------------------- station series */
  function stationSeries(el) {
    var source = document.getElementById(el.dataset.source);
    if (!source || !window.echarts) { return; }
    var series = JSON.parse(source.textContent);
    var c = echarts.init(el);
    var names = Object.keys(series);
    c.setOption({
      tooltip: { trigger: "axis" }, legend: { data: names }, grid: { left: 45, right: 15, top: 35, bottom: 30 },
      xAxis: { type: "time" }, yAxis: { type: "value" },
      series: names.map(function (n) { return { name: n, type: "line", showSymbol: false, data: series[n] }; })
    });
    window.addEventListener("resize", function () { c.resize(); });
  }

  /* ---------------------------------------------------------------- dust map */
  function scoreColour(s) {
    var stops = [[0, [44, 123, 182]], [50, [255, 255, 191]], [100, [215, 25, 28]]];
    for (var i = 1; i < stops.length; i++) {
      if (s <= stops[i][0]) {
        var a = stops[i - 1], b = stops[i], t = (s - a[0]) / (b[0] - a[0]);
        var rgb = a[1].map(function (v, k) { return Math.round(v + (b[1][k] - v) * t); });
        return "rgb(" + rgb.join(",") + ")";
      }
    }
    return "rgb(215,25,28)";
  }
  function dustMap(el) {
    if (!window.L) { return; }
    var map = L.map(el, { preferCanvas: true });
    map.setView([30.27, 119.96], 13);
    var heat = L.layerGroup().addTo(map);
    var areas = L.layerGroup().addTo(map);
    var monitors = L.layerGroup().addTo(map);
    var siteLayer = L.layerGroup().addTo(map);
    L.control.layers(null, { heat: heat, areas: areas, monitors: monitors, sites: siteLayer }, { collapsed: true }).addTo(map);
    var form = document.getElementById("dust-controls");
    var why = document.getElementById("dust-why");
    var fitted = false;
    var d = el.dataset;
    function load() {
      var params = new URLSearchParams(new FormData(form));
      getJSON(d.surfaceUrl + "?" + params.toString()).then(function (res) {
        heat.clearLayers(); areas.clearLayers(); monitors.clearLayers();
        var hx = res.half_deg ? res.half_deg[0] : 0.001, hy = res.half_deg ? res.half_deg[1] : 0.001;
        res.cells.forEach(function (c) {
          L.rectangle([[c[1] - hy, c[0] - hx], [c[1] + hy, c[0] + hx]], { stroke: false, fillColor: scoreColour(c[2]), fillOpacity: 0.45, interactive: false }).addTo(heat);
        });
        var gl = L.geoJSON(res.areas, { style: { color: "#a50026", weight: 2, fill: false, dashArray: "4 3" } }).addTo(areas);
        var rows = [];
        res.monitors.forEach(function (m) {
          L.circleMarker([m.lat, m.lon], { radius: 6, color: "#000", weight: 1, fillColor: scoreColour(m.score), fillOpacity: 1 })
            .bindTooltip(esc(m.name) + " · " + m.score).addTo(monitors);
          rows.push("<tr><td>" + esc(m.name) + '</td><td class="text-end">' + fmt(m.score, 1) + "</td></tr>");
        });
        document.getElementById("dust-monitors").innerHTML = rows.join("");
        if (!fitted && res.cells.length) {
          var lats = res.cells.map(function (c) { return c[1]; }), lons = res.cells.map(function (c) { return c[0]; });
          map.fitBounds([[Math.min.apply(null, lats), Math.min.apply(null, lons)], [Math.max.apply(null, lats), Math.max.apply(null, lons)]]);
          fitted = true;
        }
        el.dataset.cells = String(res.cells.length);
        el.dataset.areas = String(res.areas.features.length);
        return gl;
      }).catch(function () { el.dataset.cells = "error"; });
    }
    getJSON(d.sitesUrl).then(function (fc) {
      L.geoJSON(fc, { style: { color: "#ff7f00", weight: 2, fillOpacity: 0.1 } }).addTo(siteLayer);
    }).catch(function () { /* no sites */ });
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    map.on("click", function (e) {
      getJSON(d.whyUrl + "?lon=" + e.latlng.lng.toFixed(6) + "&lat=" + e.latlng.lat.toFixed(6)).then(function (r) {
        var html = "<div class='fs-5'>" + esc(d.labelScore) + ": " + fmt(r.score, 1) + "</div><table class='table table-sm'><thead><tr><th>" +
          esc(d.labelFactor) + "</th><th class='text-end'>" + esc(d.labelValue) + "</th><th class='text-end'>" + esc(d.labelGrade) +
          "</th><th class='text-end'>" + esc(d.labelWeight) + "</th><th class='text-end'>" + esc(d.labelShare) + "</th></tr></thead><tbody>" +
          r.factors.map(function (f) {
            return "<tr><td>" + esc(f.label) + "</td><td class='text-end'>" + (f.value == null ? "—" : fmt(f.value, 1)) + "</td><td class='text-end'>" +
              (f.score == null ? "—" : fmt(f.score)) + "</td><td class='text-end'>" + fmt(f.weight) + "</td><td class='text-end'>" + fmt(f.contribution, 1) + "</td></tr>";
          }).join("") + "</tbody></table>";
        why.innerHTML = html;
        L.popup().setLatLng(e.latlng).setContent(esc(d.labelScore) + " " + fmt(r.score, 1)).openOn(map);
      }).catch(function () { why.textContent = "—"; });
    });
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    paintBadges(document);
    var dash = document.getElementById("env-dashboard");
    if (dash) { dashboard(dash, false); }
    var ioc = document.getElementById("env-ioc");
    if (ioc) { dashboard(ioc, true); iocMap(ioc); iocAlarms(ioc); clock(ioc); }
    document.querySelectorAll('[data-chart="series"]').forEach(stationSeries);
    var dm = document.getElementById("dust-map");
    if (dm) { dustMap(dm); }
  });
})();
