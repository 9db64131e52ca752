/* 3D view (three.js, bundled): buildings extruded by floors, a translucent ground with underground
   lines at their depth, orbit controls, click to identify. No inline scripts (CSP). */
import * as THREE from "../vendor/three/three.module.min.js";
import { OrbitControls } from "../vendor/three/OrbitControls.js";

const config = JSON.parse(document.getElementById("view3d-config").textContent);
const el = document.getElementById("view3d");
const info = document.getElementById("view3d-info");
const R = 6378137;
let origin = config.center;

function toLocal(lon, lat) {
  // Metres east/north of the origin (equirectangular, exact enough at town scale).
  const x = (lon - origin[0]) * Math.PI / 180 * R * Math.cos(origin[1] * Math.PI / 180);
  const y = (lat - origin[1]) * Math.PI / 180 * R;
  return [x, y];
}

const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setSize(el.clientWidth, el.clientHeight);
el.appendChild(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0xdfe8ef);
const camera = new THREE.PerspectiveCamera(50, el.clientWidth / el.clientHeight, 1, 50000);
camera.up.set(0, 0, 1);
camera.position.set(-600, -900, 700);
const controls = new OrbitControls(camera, renderer.domElement);
controls.enableDamping = true;
controls.maxPolarAngle = Math.PI * 0.495 * 2;
scene.add(new THREE.HemisphereLight(0xffffff, 0x667788, 1.1));
const sun = new THREE.DirectionalLight(0xffffff, 1.2);
sun.position.set(-500, -800, 1500);
scene.add(sun);

const groundMaterial = new THREE.MeshLambertMaterial({ color: 0xb8c7a0, transparent: true, opacity: 0.55, side: THREE.DoubleSide, depthWrite: false });
const ground = new THREE.Mesh(new THREE.PlaneGeometry(20000, 20000), groundMaterial);
ground.renderOrder = 1;
scene.add(ground);
document.getElementById("ground-opacity").addEventListener("input", (e) => { groundMaterial.opacity = e.target.value / 100; });

const buildings = new THREE.Group();
scene.add(buildings);
const COLORS = { residential: 0x6ea8fe, commercial: 0xffc107, public: 0x20c997, industrial: 0xadb5bd };

function shapeOf(ring) {
  const shape = new THREE.Shape();
  ring.forEach(([lon, lat], i) => {
    const [x, y] = toLocal(lon, lat);
    if (i === 0) { shape.moveTo(x, y); } else { shape.lineTo(x, y); }
  });
  return shape;
}

function polygonsOf(geometry) {
  if (!geometry) { return []; }
  if (geometry.type === "Polygon") { return [geometry.coordinates]; }
  if (geometry.type === "MultiPolygon") { return geometry.coordinates; }
  return [];
}

function addBuilding(feature) {
  const floors = Math.max(1, feature.properties.floors || 1);
  const height = floors * (config.floor_height || 3);
  polygonsOf(feature.geometry).forEach((rings) => {
    const shape = shapeOf(rings[0]);
    rings.slice(1).forEach((hole) => shape.holes.push(shapeOf(hole)));
    const geometry = new THREE.ExtrudeGeometry(shape, { depth: height, bevelEnabled: false });
    const material = new THREE.MeshLambertMaterial({ color: COLORS[feature.properties.use] || 0x6ea8fe });
    const mesh = new THREE.Mesh(geometry, material);
    mesh.userData = { id: String(feature.id).split(".").pop(), properties: feature.properties };
    buildings.add(mesh);
  });
}

function addUnderground(feature, depthAttribute) {
  const depth = -Math.abs(parseFloat(feature.properties[depthAttribute]) || 1.5);
  const lines = feature.geometry.type === "LineString" ? [feature.geometry.coordinates] : feature.geometry.coordinates;
  lines.forEach((line) => {
    const points = line.map(([lon, lat]) => { const [x, y] = toLocal(lon, lat); return new THREE.Vector3(x, y, depth); });
    const curve = new THREE.CatmullRomCurve3(points, false, "catmullrom", 0);
    const tube = new THREE.Mesh(new THREE.TubeGeometry(curve, Math.max(2, points.length * 4), 0.6, 6, false), new THREE.MeshLambertMaterial({ color: 0xd63384 }));
    scene.add(tube);
  });
}

async function load() {
  const response = await fetch(config.buildings_url + "?limit=20000", { credentials: "same-origin" });
  const data = await response.json();
  if (data.features.length) {
    const first = polygonsOf(data.features[0].geometry)[0];
    let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
    data.features.forEach((f) => polygonsOf(f.geometry).forEach((p) => p[0].forEach(([x, y]) => {
      minx = Math.min(minx, x); maxx = Math.max(maxx, x); miny = Math.min(miny, y); maxy = Math.max(maxy, y);
    })));
    origin = first ? [(minx + maxx) / 2, (miny + maxy) / 2] : origin;
  }
  data.features.forEach(addBuilding);
  for (const layer of config.underground) {
    const r = await fetch(layer.url + "?limit=20000", { credentials: "same-origin" });
    const lines = await r.json();
    lines.features.forEach((f) => addUnderground(f, layer.depth_attribute));
  }
  el.dataset.buildings = String(buildings.children.length);
  el.dataset.loaded = "true";
}

const raycaster = new THREE.Raycaster();
const pointer = new THREE.Vector2();
let selected = null;
let downAt = null;
renderer.domElement.addEventListener("pointerdown", (e) => { downAt = [e.clientX, e.clientY]; });
renderer.domElement.addEventListener("pointerup", async (e) => {
  if (!downAt || Math.hypot(e.clientX - downAt[0], e.clientY - downAt[1]) > 5) { return; }
  const rect = renderer.domElement.getBoundingClientRect();
  pointer.x = ((e.clientX - rect.left) / rect.width) * 2 - 1;
  pointer.y = -((e.clientY - rect.top) / rect.height) * 2 + 1;
  raycaster.setFromCamera(pointer, camera);
  const hit = raycaster.intersectObjects(buildings.children, false)[0];
  if (selected) { selected.material.emissive.setHex(0x000000); selected = null; }
  if (!hit) { info.classList.add("d-none"); return; }
  selected = hit.object;
  selected.material.emissive.setHex(0x552200);
  const url = config.feature_url.replace(/\/0\/$/, "/" + selected.userData.id + "/");
  const detail = await (await fetch(url, { credentials: "same-origin" })).json();
  const p = detail.properties;
  info.replaceChildren();
  const title = document.createElement("div");
  title.className = "fw-bold";
  title.textContent = `${p.display || p.code} · ${p.floors}F`;
  info.appendChild(title);
  if (detail.url) {
    const a = document.createElement("a");
    a.href = detail.url;
    a.textContent = p.address || p.code;
    info.appendChild(a);
  }
  (detail.related || []).forEach((group) => {
    const div = document.createElement("div");
    div.textContent = `${group.title}: ${group.total}`;
    info.appendChild(div);
  });
  info.classList.remove("d-none");
  el.dataset.identified = selected.userData.id;
});

function resize() {
  camera.aspect = el.clientWidth / el.clientHeight;
  camera.updateProjectionMatrix();
  renderer.setSize(el.clientWidth, el.clientHeight);
}
window.addEventListener("resize", resize);
function animate() {
  controls.update();
  renderer.render(scene, camera);
  requestAnimationFrame(animate);
}
load().catch(() => { el.dataset.loaded = "error"; });
animate();
