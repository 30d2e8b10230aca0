// parcelnet operations page: the network, live volumes, waybill search, exceptions and
// 24-hour coverage, over the service's own API. No network access beyond this server.
"use strict";

const state = { key: localStorage.getItem("pn-key") || "", net: null, names: {}, timer: null };
const map = L.map("map", { zoomSnap: 0.25, preferCanvas: false }).setView([35.5, 104], 4.25);
const layers = {
  provinces: L.layerGroup().addTo(map), lanes: L.layerGroup().addTo(map),
  coverage: L.layerGroup().addTo(map), facilities: L.layerGroup().addTo(map),
  volumes: L.layerGroup().addTo(map), parcel: L.layerGroup().addTo(map),
};
// panes, bottom to top: province outlines; lanes and coverage; facilities, volumes, the parcel
map.createPane("base").style.zIndex = 250;
map.createPane("marks").style.zIndex = 450;
const canvas = L.canvas({ padding: 0.2 });
const TIER_STYLE = {
  air_hub: { radius: 8, color: "#6a1b9a", fillColor: "#ab47bc" },
  hub: { radius: 6, color: "#8e1b10", fillColor: "#e53935" },
  gateway: { radius: 4, color: "#0d47a1", fillColor: "#42a5f5" },
  centre: { radius: 2.5, color: "#455a64", fillColor: "#90a4ae" },
};

function say(text) { document.getElementById("message").textContent = text || ""; }

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + state.key } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : r.status + " " + r.statusText);
  return body;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// Damm's check digit, as the service's waybill numbers carry it: a typo is caught here,
// before any request
const DAMM = ["0317598642", "7092154863", "4206871359", "1750983426", "6123045978",
              "3674209581", "5869720134", "8945362017", "9438617205", "2581436790"];
function isWaybill(s) {
  if (!/^PN\d{12}$/.test(s)) return false;
  let c = 0;
  for (const d of s.slice(2)) c = +DAMM[c][+d];
  return c === 0;
}

function clock(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : "—"; }

function where(id) {
  const p = state.net && state.net.positions[id];
  return p ? [p[1], p[0]] : null;
}

async function loadNetwork() {
  const net = await api("/v1/map/network");
  state.net = net;
  Object.values(layers).forEach(l => l.clearLayers());
  const origins = [];
  const RANK = { centre: 0, gateway: 1, hub: 2, air_hub: 3 };       // hubs drawn on top
  const feats = net.features.slice().sort((a, b) =>
    (RANK[a.properties.tier] ?? -1) - (RANK[b.properties.tier] ?? -1));
  for (const f of feats) {
    const p = f.properties;
    if (p.layer === "province") {
      L.geoJSON(f, { style: { color: "#9fb3c8", weight: 0.8, fillColor: "#fff", fillOpacity: 0.9 },
                     interactive: false, pane: "base" }).addTo(layers.provinces);
    } else if (p.layer === "lane") {
      const c = f.geometry.coordinates;
      L.polyline([[c[0][1], c[0][0]], [c[1][1], c[1][0]]],
                 { color: p.tier === "air" ? "#7e57c2" : "#78909c", weight: 0.5,
                   opacity: p.tier === "air" ? 0.18 : 0.3,
                   interactive: false, className: "pn-lane" }).addTo(layers.lanes);
    } else if (p.layer === "facility") {
      state.names[p.id] = p.name;
      const s = TIER_STYLE[p.tier] || TIER_STYLE.centre;
      const [lon, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lon], { ...s, weight: 1, fillOpacity: 0.9, className: "pn-" + p.tier, pane: "marks" })
        .bindTooltip(p.name + " (" + p.id + ")").addTo(layers.facilities);
      origins.push([p.name, p.id]);
    }
  }
  for (const [id, v] of Object.entries(net.stations)) state.names[id] = v[2];
  const sel = document.getElementById("origin");
  sel.replaceChildren(...origins.sort().map(([n, id]) => {
    const o = el("option", n + " " + id); o.value = id; return o;
  }));
  if (origins.some(o => o[1] === "C3301")) sel.value = "C3301";
  document.body.dataset.hubs = layers.facilities.getLayers().length;
  document.body.dataset.ready = "network";
}

async function refreshVolumes() {
  if (!state.net) return;
  try {
    const { volumes } = await api("/v1/map/volumes");
    layers.volumes.clearLayers();
    let total = 0;
    for (const [id, n] of Object.entries(volumes)) {
      const at = where(id);
      if (!at) continue;
      total += n;
      L.circleMarker(at, { radius: 3 + 2 * Math.sqrt(n), color: "#ef6c00", weight: 1,
                           fillColor: "#ffa726", fillOpacity: 0.5, className: "pn-volume", pane: "marks" })
        .bindTooltip((state.names[id] || id) + ": " + n + " parcels").addTo(layers.volumes);
    }
    document.getElementById("volumes").textContent =
      total + " parcels on the way at " + Object.keys(volumes).length + " facilities";
  } catch (e) { say(e.message); }
}

async function track(wb) {
  if (!isWaybill(wb)) throw new Error("no waybill " + JSON.stringify(wb) + ": not a waybill number (PN + 12 digits with a valid check digit)");
  const t = await api("/v1/track/" + encodeURIComponent(wb));
  const box = document.getElementById("parcel");
  box.replaceChildren(
    el("p", "", ""), el("p", "promised by " + clock(t.promise.promise_at) +
      (t.promise_history.length > 1 ? " (promise v" + t.promise.version + ": " + t.promise.reason + ")" : "")));
  box.firstChild.append(el("span", t.status, "tag"), " at " + (state.names[t.location] || t.location || "—"));
  const ol = document.getElementById("timeline");
  ol.replaceChildren(...t.events.map(e => {
    const li = el("li", "", "pn-event");
    li.append(el("time", clock(e.at)), " " + e.type.replace(/_/g, " ") + " · " + (state.names[e.facility] || e.facility));
    return li;
  }));
  layers.parcel.clearLayers();
  const hops = [];
  for (const lane of t.promise.path) {
    const [a, b] = lane.split("/")[0].split(">");
    if (!hops.length) hops.push(a);
    hops.push(b);
  }
  const pts = hops.map(where).filter(Boolean);
  if (pts.length > 1) {
    L.polyline(pts, { color: "#1565c0", weight: 3, dashArray: "6 4", className: "pn-path", pane: "marks" })
      .addTo(layers.parcel);
    map.fitBounds(L.latLngBounds(pts).pad(0.3));
  }
  for (const e of t.events) {
    const at = where(e.facility);
    if (at) L.circleMarker(at, { radius: 6, color: "#0d47a1", fillColor: "#1e88e5", fillOpacity: 1,
                                 className: "pn-scan", pane: "marks" }).bindTooltip(e.type + " " + clock(e.at)).addTo(layers.parcel);
  }
  document.body.dataset.tracked = t.waybill;
}

async function exceptions() {
  const x = await api("/v1/exceptions");
  const ul = document.getElementById("exceptions");
  if (!x.facilities.length) { ul.replaceChildren(el("li", "none")); return; }
  ul.replaceChildren(...x.facilities.map(g => {
    const li = el("li", "", "pn-exception");
    const parts = ["late", "stuck", "exception", "delivery_failed"].filter(k => g[k]).map(k => g[k] + " " + k.replace("_", " "));
    li.append(el("strong", g.name || g.facility), " " + g.parcels + " parcels: " + parts.join(", "));
    return li;
  }));
}

async function coverage() {
  const origin = document.getElementById("origin").value;
  const hour = document.getElementById("hour").value;
  if (!origin) return;
  const c = await api("/v1/map/coverage?origin=" + encodeURIComponent(origin) + "&hour=" + hour);
  layers.coverage.clearLayers();
  for (const [id, h] of Object.entries(c.hours)) {
    const at = where(id);
    if (!at) continue;
    const color = h === null ? "#999" : h <= 24 ? "#2e9e44" : h <= 48 ? "#e0a100" : "#d2452b";
    L.circleMarker(at, { renderer: canvas, radius: 2.5, stroke: false, fillColor: color, fillOpacity: 0.85,
                         interactive: false }).addTo(layers.coverage);
  }
  document.getElementById("coverage").textContent =
    (100 * c.share_24h).toFixed(1) + "% of the population within 24 h of an order at " +
    String(c.hour).padStart(2, "0") + ":00 from " + (state.names[origin] || origin);
}

async function start() {
  say("");
  if (!state.key) { say("Enter an API key to see the network."); return; }
  try {
    await loadNetwork();
    await Promise.all([refreshVolumes(), exceptions(), coverage()]);
    clearInterval(state.timer);
    state.timer = setInterval(refreshVolumes, 5000);
  } catch (e) { say(e.message); }
}

const hourSel = document.getElementById("hour");
for (let h = 0; h < 24; h++) {
  const o = el("option", String(h).padStart(2, "0") + ":00"); o.value = h; hourSel.append(o);
}
hourSel.value = 18;
document.getElementById("key").value = state.key;
document.getElementById("key-form").addEventListener("submit", ev => {
  ev.preventDefault();
  state.key = document.getElementById("key").value.trim();
  localStorage.setItem("pn-key", state.key);
  start();
});
document.getElementById("track-form").addEventListener("submit", ev => {
  ev.preventDefault();
  say("");
  track(document.getElementById("waybill").value.trim()).catch(e => say(e.message));
});
document.getElementById("refresh-exceptions").addEventListener("click", () => exceptions().catch(e => say(e.message)));
document.getElementById("origin").addEventListener("change", () => coverage().catch(e => say(e.message)));
hourSel.addEventListener("change", () => coverage().catch(e => say(e.message)));
start();
