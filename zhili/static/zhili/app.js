/* Zhili page behaviour: maps drawn from the town's own data (no online tiles). No inline scripts. */
(function () {
  "use strict";

  var STYLES = {
    "places.division": { color: "#6c757d", weight: 2, fillOpacity: 0.03, dashArray: "6 4" },
    "places.grid": { color: "#198754", weight: 1, fillOpacity: 0.05 },
    "places.road": { color: "#f0a020", weight: 3 },
    "places.building": { color: "#0d6efd", weight: 1, fillOpacity: 0.45 }
  };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function popup(feature) {
    var p = feature.properties || {};
    return '<a href="' + escapeHtml(p.url || "#") + '">' + escapeHtml(p.name || p.id) + "</a>";
  }

  function townMap(el) {
    var layers = JSON.parse(el.dataset.layers || "[]");
    var map = L.map(el, { preferCanvas: true, zoomControl: true });
    map.setView([30.27, 119.96], 14);
    var control = L.control.layers(null, null, { collapsed: window.innerWidth < 576 }).addTo(map);
    var bounds = null;
    var pending = layers.length;
    var features = 0;
    layers.forEach(function (layer) {
      fetch(layer.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        var gl = L.geoJSON(data, {
          style: STYLES[layer.name] || {},
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 4 }); },
          onEachFeature: function (f, l) { l.bindPopup(popup(f)); }
        }).addTo(map);
        control.addOverlay(gl, layer.title);
        features += (data.features || []).length;
        if (data.features && data.features.length) {
          var b = gl.getBounds();
          bounds = bounds ? bounds.extend(b) : b;
        }
      }).catch(function () { /* a layer that fails to load stays off */ }).finally(function () {
        pending -= 1;
        if (pending === 0) {
          if (bounds) { map.fitBounds(bounds); }
          el.dataset.features = String(features);
          el.dataset.loaded = "true";
        }
      });
    });
    if (!layers.length) { el.dataset.loaded = "true"; }
  }

  function geometryMap(el) {
    var geometry = JSON.parse(el.dataset.geometry);
    var map = L.map(el, { preferCanvas: true });
    var gl = L.geoJSON(geometry).addTo(map);
    var b = gl.getBounds();
    if (b.isValid()) { map.fitBounds(b, { maxZoom: 18 }); } else { map.setView([30.27, 119.96], 14); }
  }

  function pickerMap(el) {
    var input = document.getElementById(el.dataset.pickerFor);
    if (!input) { return; }
    var map = L.map(el, { preferCanvas: true });
    var drawn = null;
    function draw() {
      if (drawn) { map.removeLayer(drawn); drawn = null; }
      try {
        var value = input.value.trim();
        if (value.charAt(0) === "{") {
          drawn = L.geoJSON(JSON.parse(value)).addTo(map);
          var b = drawn.getBounds();
          if (b.isValid()) { map.fitBounds(b, { maxZoom: 18 }); return; }
        }
      } catch (e) { /* invalid text: the server reports it on save */ }
      map.setView([30.27, 119.96], 13);
    }
    draw();
    input.addEventListener("change", draw);
    if ((input.dataset.geometry || "") === "Point") {
      map.on("click", function (e) {
        input.value = JSON.stringify({ type: "Point", coordinates: [+e.latlng.lng.toFixed(7), +e.latlng.lat.toFixed(7)] });
        draw();
      });
    }
  }

  function init(root) {
    root.querySelectorAll("#town-map").forEach(townMap);
    root.querySelectorAll(".map[data-geometry]").forEach(geometryMap);
    root.querySelectorAll(".map-picker").forEach(pickerMap);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
