/* Zhili IoT pages: live alarms over server-sent events (polling fallback), device map, series.
   No inline scripts: data comes from data- attributes and json_script blocks. */
(function () {
  "use strict";

  function liveAlarms(opts) {
    var cursor = opts.cursor;
    var state = document.getElementById("alarm-live-state");
    function setState(text, cls) {
      if (state) { state.textContent = text; state.className = "badge " + cls; }
    }
    function handle(alarm) {
      if (alarm.updated && alarm.updated > (cursor || "")) { cursor = alarm.updated; }
      opts.onAlarm(alarm);
    }
    function poll() {
      setState(opts.labelPolling || "polling", "text-bg-warning");
      fetch(opts.feed + "?since=" + encodeURIComponent(cursor || ""), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) { data.alarms.forEach(handle); cursor = data.cursor; })
        .catch(function () {})
        .then(function () { window.setTimeout(poll, 3000); });
    }
    if (!window.EventSource) { poll(); return; }
    var source = new EventSource(opts.stream + "?since=" + encodeURIComponent(cursor || ""));
    source.addEventListener("open", function () { setState(opts.labelLive || "live", "text-bg-success"); });
    source.addEventListener("alarm", function (e) { handle(JSON.parse(e.data)); });
    // Every stream slot of the server is taken: poll the feed instead of holding a thread.
    source.addEventListener("busy", function () { source.close(); poll(); });
    source.addEventListener("error", function () { setState("…", "text-bg-secondary"); });
  }

  var SEVERITY_CLASS = { info: "text-bg-info", minor: "text-bg-warning", major: "text-bg-danger", critical: "text-bg-dark" };

  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function actionForm(action, label, csrf, btnClass) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.className = "d-inline";
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrfmiddlewaretoken"; token.value = csrf;
    var next = document.createElement("input");
    next.type = "hidden"; next.name = "next"; next.value = window.location.pathname;
    var btn = document.createElement("button");
    btn.type = "submit"; btn.className = "btn btn-sm " + btnClass; btn.textContent = label;
    form.appendChild(token); form.appendChild(next); form.appendChild(btn);
    return form;
  }

  function alarmBoard(table) {
    var tbody = table.querySelector("tbody");
    var empty = table.parentNode.querySelector(".alarm-empty");
    var canAck = table.dataset.canAck === "1";
    function refreshEmpty() { if (empty) { empty.hidden = tbody.children.length > 0; } }
    function upsert(alarm) {
      var existing = tbody.querySelector('tr[data-alarm-id="' + alarm.id + '"]');
      if (alarm.status === "closed") { if (existing) { existing.remove(); } refreshEmpty(); return; }
      var row = document.createElement("tr");
      row.dataset.alarmId = alarm.id;
      row.className = "alarm-row alarm-" + alarm.severity + (existing ? "" : " alarm-new");
      cell(row, alarm.raised_at, "text-nowrap small");
      var dev = cell(row, "");
      var link = document.createElement("a");
      link.href = alarm.url; link.textContent = alarm.device_name + " (" + alarm.device + ")";
      dev.appendChild(link);
      cell(row, alarm.message + (alarm.escalation_level ? " ⇡" + alarm.escalation_level : ""));
      var sev = cell(row, "");
      var badge = document.createElement("span");
      badge.className = "badge " + (SEVERITY_CLASS[alarm.severity] || "text-bg-secondary");
      badge.textContent = alarm.severity_label;
      sev.appendChild(badge);
      cell(row, alarm.status_label, "alarm-status");
      var actions = cell(row, "", "text-nowrap");
      if (canAck) {
        var base = alarm.url.replace(/\/$/, "");
        if (alarm.status === "raised") {
          actions.appendChild(actionForm(base + "/acknowledge/", table.dataset.labelAck, table.dataset.csrf, "btn-outline-warning"));
        }
        actions.appendChild(actionForm(base + "/close/", table.dataset.labelClose, table.dataset.csrf, "btn-outline-success ms-1"));
      }
      if (existing) { tbody.replaceChild(row, existing); } else { tbody.insertBefore(row, tbody.firstChild); }
      refreshEmpty();
    }
    var initial = document.getElementById("alarm-initial");
    if (initial) { JSON.parse(initial.textContent).forEach(upsert); }
    refreshEmpty();
    return upsert;
  }

  var STATUS_COLOR = { online: "#198754", offline: "#6c757d", never: "#adb5bd", disabled: "#343a40" };
  var ALARM_COLOR = { info: "#0dcaf0", minor: "#ffc107", major: "#dc3545", critical: "#000000" };

  function deviceMap(el) {
    if (!window.L) { return null; }
    var map = L.map(el, { preferCanvas: true });
    map.setView([30.27, 119.96], 14);
    var layer = null;
    var fitted = false;
    if (el.dataset.grids) {
      fetch(el.dataset.grids, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data) { L.geoJSON(data, { style: { color: "#0d6efd", weight: 1, fillOpacity: 0.03 } }).addTo(map).bringToBack(); }
        }).catch(function () {});
    }
    function load() {
      fetch(el.dataset.layers, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        if (layer) { map.removeLayer(layer); }
        layer = L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            var p = feature.properties;
            return L.circleMarker(latlng, {
              radius: p.alarm ? 9 : 6,
              color: p.alarm ? ALARM_COLOR[p.alarm] || "#dc3545" : "#ffffff",
              weight: p.alarm ? 3 : 1,
              fillColor: STATUS_COLOR[p.status] || "#6c757d",
              fillOpacity: 0.9,
              className: p.alarm ? "iot-marker-alarm" : "iot-marker"
            });
          },
          onEachFeature: function (feature, marker) {
            var p = feature.properties;
            var box = document.createElement("div");
            var a = document.createElement("a");
            a.href = p.url; a.textContent = p.name + " (" + p.code + ")";
            box.appendChild(a);
            var meta = document.createElement("div");
            meta.className = "small text-body-secondary";
            meta.textContent = p.type + " · " + p.status_label;
            box.appendChild(meta);
            Object.keys(p.values).forEach(function (k) {
              var line = document.createElement("div");
              line.className = "small";
              line.textContent = k + ": " + p.values[k];
              box.appendChild(line);
            });
            marker.bindPopup(box);
            marker.feature = feature;
          }
        }).addTo(map);
        el.dataset.alarmCount = data.features.filter(function (f) { return f.properties.alarm; }).length;
        if (!fitted && data.features.length) { map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [20, 20] }); fitted = true; }
      }).catch(function () {});
    }
    load();
    var pending = null;
    return function () {
      if (pending) { return; }
      pending = window.setTimeout(function () { pending = null; load(); }, 300);
    };
  }

  function seriesChart(el) {
    if (!window.echarts) { return; }
    var chart = window.echarts.init(el);
    var select = document.querySelector(".iot-series-range");
    function load() {
      var hours = select ? select.value : "24";
      fetch(el.dataset.url + "?hours=" + hours, { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (data) {
          chart.setOption({
            tooltip: { trigger: "axis" },
            legend: { type: "scroll" },
            grid: { left: 45, right: 15, top: 35, bottom: 30 },
            xAxis: { type: "time" },
            yAxis: { type: "value", scale: true },
            series: data.series.map(function (s) {
              return { name: s.metric + (s.unit ? " (" + s.unit + ")" : ""), type: "line", showSymbol: false,
                       data: s.points.map(function (p) { return [p[0], p[1]]; }) };
            })
          }, true);
        }).catch(function () {});
    }
    if (select) { select.addEventListener("change", load); }
    window.addEventListener("resize", function () { chart.resize(); });
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("alarm-table");
    var mapEl = document.getElementById("alarm-map");
    var upsert = table ? alarmBoard(table) : null;
    var reloadMap = mapEl ? deviceMap(mapEl) : null;
    var source = table || mapEl;
    if (source && source.dataset.stream) {
      liveAlarms({
        stream: source.dataset.stream,
        feed: source.dataset.feed,
        cursor: source.dataset.cursor,
        labelLive: source.dataset.labelLive,
        labelPolling: source.dataset.labelPolling,
        onAlarm: function (alarm) {
          if (upsert) { upsert(alarm); }
          if (reloadMap) { reloadMap(); }
        }
      });
    }
    document.querySelectorAll(".iot-series").forEach(seriesChart);
  });
})();
