/* Cases pages: position pick (GPS or map), GPS on workflow steps, queue selection, case map,
   statistics charts. Loaded as a static file (strict CSP: no inline scripts). */
(function () {
  "use strict";

  function center(el) {
    try {
      var c = JSON.parse(el.dataset.center || "null");
      if (c && c.length === 2) { return [c[1], c[0]]; }
    } catch (e) { /* default below */ }
    return [30.27, 119.96];
  }

  function fire(name) {
    document.body.dispatchEvent(new CustomEvent(name, { bubbles: true }));
  }

  /* Report form: pick the position with GPS or a tap on the map. */
  function pickMap(el) {
    var lon = document.getElementById("id_longitude");
    var lat = document.getElementById("id_latitude");
    var text = document.getElementById("position-text");
    var map = L.map(el, { zoomControl: true }).setView(center(el), 15);
    var marker = null;
    function set(latlng, source) {
      lon.value = latlng.lng.toFixed(6);
      lat.value = latlng.lat.toFixed(6);
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
      text.textContent = lat.value + ", " + lon.value + (source ? " (" + source + ")" : "");
      fire("position-changed");
    }
    if (lon.value && lat.value) { set(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); map.setView([parseFloat(lat.value), parseFloat(lon.value)], 16); }
    map.on("click", function (e) { set(e.latlng, "map"); });
    var gps = document.getElementById("use-gps");
    if (gps) {
      gps.addEventListener("click", function () {
        if (!navigator.geolocation) { return; }
        navigator.geolocation.getCurrentPosition(function (p) {
          var ll = L.latLng(p.coords.latitude, p.coords.longitude);
          set(ll, "GPS");
          map.setView(ll, 17);
        }, function () { text.textContent = text.dataset.none; }, { enableHighAccuracy: true, timeout: 10000 });
      });
    }
    el.pickMap = map;
  }

  /* Workflow steps record where they were done when the phone allows it. */
  function gpsOnSteps() {
    var forms = document.querySelectorAll(".case-action-form");
    if (!forms.length || !navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      forms.forEach(function (f) {
        f.querySelector(".gps-lon").value = p.coords.longitude.toFixed(6);
        f.querySelector(".gps-lat").value = p.coords.latitude.toFixed(6);
      });
    }, function () { /* no position: steps are recorded without one */ }, { timeout: 10000 });
  }

  function queueSelection() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      document.querySelectorAll(".row-check").forEach(function (c) { c.checked = all.checked; });
    });
  }

  var STATUS_COLOURS = {
    registered: "#6f42c1", accepted: "#0dcaf0", dispatched: "#0d6efd", handling: "#fd7e14",
    handled: "#20c997", feedback: "#198754"
  };

  function caseMap(el) {
    var map = L.map(el, { preferCanvas: true }).setView(center(el), 14);
    var layer = null;
    var form = document.getElementById("case-map-filter");
    function load() {
      var params = new URLSearchParams(new FormData(form));
      fetch(el.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (layer) { map.removeLayer(layer); }
          var max = 1;
          (data.features || []).forEach(function (f) { if (f.properties.count > max) { max = f.properties.count; } });
          layer = L.geoJSON(data, {
            style: function (f) {
              var share = (f.properties.count || 0) / max;
              return { stroke: false, fillColor: "hsl(" + Math.round(60 - 60 * share) + ",90%,50%)", fillOpacity: 0.25 + 0.5 * share };
            },
            pointToLayer: function (f, ll) {
              return L.circleMarker(ll, { radius: 6, color: f.properties.sla === "overdue" ? "#dc3545" : "#fff", weight: 2,
                fillColor: STATUS_COLOURS[f.properties.status] || "#6c757d", fillOpacity: 0.9 });
            },
            onEachFeature: function (f, l) {
              var p = f.properties;
              if (p.url) {
                var a = document.createElement("a");
                a.href = p.url; a.textContent = p.name + " · " + p.status_label;
                l.bindPopup(a);
              } else if (p.count) { l.bindTooltip(String(p.count)); }
            }
          }).addTo(map);
          if ((data.features || []).length) { map.fitBounds(layer.getBounds(), { maxZoom: 16 }); }
          el.dataset.features = String((data.features || []).length);
          el.dataset.loaded = "true";
        });
    }
    form.addEventListener("change", load);
    load();
    fetch(el.dataset.url + "?kind=hotspots", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        L.geoJSON(data, {
          style: { color: "#dc3545", weight: 3, dashArray: "6 4", fillOpacity: 0.08 },
          onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { sticky: true }); }
        }).addTo(map);
      }).catch(function () { /* no hotspots layer */ });
  }

  function charts() {
    var node = document.getElementById("case-chart-data");
    if (!node || typeof echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    function bar(id, names, values, horizontal) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var chart = echarts.init(el);
      var cat = { type: "category", data: names, axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 } };
      var val = { type: "value" };
      chart.setOption({ tooltip: {}, grid: { left: horizontal ? 110 : 40, right: 20, bottom: 60, top: 20 },
        xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val,
        series: [{ type: "bar", data: values, itemStyle: { color: "#0d6efd" } }] });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var pie = document.getElementById("chart-channel");
    if (pie) {
      var chart = echarts.init(pie);
      chart.setOption({ tooltip: { trigger: "item" }, series: [{ type: "pie", radius: ["35%", "65%"], data: data.channel }] });
    }
    bar("chart-ontime", data.ontime.names, data.ontime.values, false);
    bar("chart-category", data.category.names.slice().reverse(), data.category.values.slice().reverse(), true);
    bar("chart-grid", data.grid.names.slice().reverse(), data.grid.values.slice().reverse(), true);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pick = document.getElementById("pick-map");
    if (pick) { pickMap(pick); }
    var cm = document.getElementById("case-map");
    if (cm) { caseMap(cm); }
    gpsOnSteps();
    queueSelection();
    charts();
  });
}());
