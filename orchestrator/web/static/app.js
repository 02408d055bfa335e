// collaborate fleet dashboard: one snapshot per Server-Sent Event, drawn
// into an SVG arena (metres, arena frame, y up) and a card per robot.
// Controls call the JSON API; every refusal is shown, never swallowed.
'use strict';

const STATES = {
  moving: '#3fb950', holding: '#d29922', blocked: '#f85149', yielding: '#e3b341',
  backing_off: '#db6d28', failsafe: '#a371f7', fault: '#ff4fd8', offline: '#6e7681',
  idle: '#58a6ff', online: '#79c0ff', mapping: '#39c5cf', reached: '#7ee787', done: '#2ea043',
};
const NS = 'http://www.w3.org/2000/svg';
const $ = (s, el = document) => el.querySelector(s);

let snap = null;
let updates = 0;
let session = { user: '' };
let anonymousRead = false; // the server lets anyone watch (--allow-anonymous-watch)
let es = null;             // the live connection, while watching
let selected = '';
let staticKey = '';

// ---------- helpers ----------
function el(tag, attrs = {}, parent, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
const S = (tag, attrs, parent, text) => el('svg:' + tag, attrs, parent, text);
const fmt = (v, d = 2) => (v === undefined || v === null || Number.isNaN(v)) ? '–' : Number(v).toFixed(d).replace(/^-(0\.?0*)$/, '$1');
const color = (st) => STATES[st] || '#8b949e';
function clock(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 2000) return '--:--:--';
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}
function ago(ts) {
  const d = new Date(ts).getTime();
  if (!d || new Date(ts).getFullYear() < 2000) return 'never seen';
  const s = Math.max(0, (Date.now() - d) / 1000);
  return s < 1 ? 'now' : s < 90 ? `${s.toFixed(0)} s ago` : `${(s / 60).toFixed(0)} min ago`;
}

// ---------- notices ----------
function notice(kind, msg, key) {
  const box = $('#notices');
  let n = key ? box.querySelector(`[data-key="${key}"]`) : null;
  if (!n) {
    n = el('div', { class: `notice ${kind}`, 'data-key': key || '' });
    box.prepend(n); // newest on top
    el('span', { class: 'msg' }, n);
    const x = el('button', { title: 'dismiss' }, n, '✕');
    x.addEventListener('click', () => n.remove());
  }
  n.className = `notice ${kind}`;
  $('.msg', n).textContent = msg;
  if (kind === 'ok') setTimeout(() => n.remove(), 2500);
  while (box.children.length > 5) box.lastChild.remove();
  return n;
}
function clearNotice(key) { const n = $(`#notices [data-key="${key}"]`); if (n) n.remove(); }

// api calls the JSON API and shows every failure. It resolves to the
// decoded answer, or null when the call was refused.
async function api(method, path, body, what) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  let res, text;
  try { res = await fetch(path, init); text = await res.text(); } catch (e) {
    notice('error', `${what}: the orchestrator is unreachable (${e.message})`);
    return null;
  }
  let data = null;
  try { data = JSON.parse(text); } catch { /* not JSON: show the text */ }
  const msg = (data && data.error) || text.trim() || res.statusText;
  if (res.status === 401) {
    session = { user: '' }; renderSession();
    notice('login', `${what} refused: log in to control the fleet`, 'login');
    $('#login-user').focus();
    return null;
  }
  if (res.status === 403 && session.user && !session.control) {
    notice('login', `${what} refused: ${msg}`, 'login');
    $('#login-user').focus();
    return null;
  }
  if (!res.ok) { notice('error', `${what} failed (${res.status}): ${msg}`); return null; }
  notice('ok', `${what}: done`, 'ok');
  return data || {};
}

async function act(button, method, path, body, what) {
  if (button) button.disabled = true;
  try { return await api(method, path, body, what); } finally { if (button) button.disabled = false; }
}

// ---------- session ----------
function renderSession() {
  const logged = !!session.user;
  // An observer may log in again as an operator to control.
  $('#login-form').hidden = logged && !!session.control;
  $('#who').hidden = !logged;
  $('#logout').hidden = !logged;
  $('#who').textContent = logged ? `● ${session.user} (${session.role})` : '';
  document.body.dataset.user = session.user || '';
}
async function loadSession() {
  try {
    const r = await fetch('/session', { credentials: 'same-origin' });
    session = await r.json();
  } catch { session = { user: '' }; }
  anonymousRead = !!session.anonymous_read;
  renderSession();
  watch();
}
// watch starts the live view when this browser may see the fleet, else
// asks for a login.
function watch() {
  if (session.user || anonymousRead) { if (!es) connect(); return; }
  notice('login', 'log in to watch the fleet', 'login');
  document.body.dataset.watch = 'login';
}
// unwatch closes the live view and clears what it showed.
function unwatch() {
  if (es) { es.close(); es = null; }
  snap = null; staticKey = '';
  for (const id of ['#layer-static', '#layer-routes', '#layer-holds', '#layer-truth', '#layer-robots', '#robots', '#log', '#checkpoints', '#stats']) $(id).replaceChildren();
  const live = $('#live'); live.textContent = 'not watching'; live.className = 'pill warn';
}
async function login(ev) {
  ev.preventDefault();
  const user = $('#login-user').value, password = $('#login-pass').value;
  let r, data = {};
  try {
    r = await fetch('/login', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) });
    data = await r.json().catch(() => ({}));
  } catch (e) { notice('error', `log in: ${e.message}`); return; }
  if (!r.ok) { notice('error', `log in failed (${r.status}): ${data.error || r.statusText}`, 'loginerr'); return; }
  session = data; $('#login-pass').value = '';
  clearNotice('login'); clearNotice('loginerr');
  renderSession();
  notice('ok', `logged in as ${session.user}`, 'ok');
  watch();
}
async function logout() {
  await fetch('/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => {});
  session = { user: '' }; renderSession();
  if (!anonymousRead) { unwatch(); watch(); }
}

// ---------- arena ----------
function geometry() {
  const d = (snap.map && snap.map.diameter_m) || (snap.world && snap.world.diameter_m) || snap.diameter_m || 3;
  return { R: d / 2, D: d };
}
const P = (x, y) => [x, -y]; // arena frame (y up) to SVG (y down)

function markerPos() {
  const m = new Map();
  for (const mk of (snap.map && snap.map.markers) || []) m.set(mk.id, [mk.x_m, mk.y_m]);
  return m;
}

function drawStatic(R, markers) {
  const key = JSON.stringify([R, [...markers.entries()]]);
  if (key === staticKey) return;
  staticKey = key;
  const g = $('#layer-static'); g.replaceChildren();
  const pad = 0.22;
  $('#arena').setAttribute('viewBox', `${-R - pad} ${-R - pad} ${2 * (R + pad)} ${2 * (R + pad)}`);
  S('circle', { class: 'arena-edge', cx: 0, cy: 0, r: R }, g);
  for (let r = 0.5; r < R; r += 0.5) S('circle', { class: 'arena-ring', cx: 0, cy: 0, r }, g);
  S('line', { class: 'arena-axis', x1: -R, y1: 0, x2: R, y2: 0 }, g);
  S('line', { class: 'arena-axis', x1: 0, y1: -R, x2: 0, y2: R }, g);
  const s = 0.07;
  for (const [id, [x, y]] of markers) {
    const m = S('g', { class: 'marker', 'data-marker': id }, g);
    const [sx, sy] = P(x, y);
    S('rect', { x: sx - s / 2, y: sy - s / 2, width: s, height: s }, m);
    const n = Math.hypot(x, y) || 1;
    const [lx, ly] = P(x + (x / n) * 0.12, y + (y / n) * 0.12);
    S('text', { x: lx, y: ly }, m, String(id));
  }
  if (markers.size === 0) S('text', { class: 'nomap', x: 0, y: -R * 0.55 }, g, 'no marker map yet: run the map sweep');
}

function robotPos(r) {
  const p = snap.poses[r.id] || {};
  const x = r.x_m ?? p.x_m, y = r.y_m ?? p.y_m;
  return (x === undefined || x === null) ? null : [x, y];
}
function robotState(r) {
  if (!r.online) return 'offline';
  return r.state || (snap.poses[r.id] || {}).state || 'online';
}
function heldWith(reason, ids, self) {
  return ids.filter((id) => id !== self && new RegExp(`(^|[^A-Za-z0-9_-])${id}([^A-Za-z0-9_-]|$)`).test(reason));
}

function drawDynamic(R, markers) {
  const routes = $('#layer-routes'), holds = $('#layer-holds'), truth = $('#layer-truth'), robots = $('#layer-robots');
  for (const g of [routes, holds, truth, robots]) g.replaceChildren();
  const rr = snap.robot_radius_m || 0.08;
  const fleet = snap.fleet.robots || [];
  const ids = fleet.map((r) => r.id);
  const pos = new Map(fleet.map((r) => [r.id, robotPos(r)]));
  const targets = new Set(fleet.map((r) => r.target).filter((t) => t !== undefined));
  for (const m of document.querySelectorAll('#layer-static .marker')) m.classList.toggle('target', targets.has(Number(m.dataset.marker)));

  if ($('#show-routes').checked) {
    for (const r of fleet) {
      const route = r.route || [];
      const here = pos.get(r.id);
      const done = route.slice(0, r.reached).map((id) => markers.get(id)).filter(Boolean);
      if (done.length > 1) S('polyline', { class: 'route-done', points: done.map((p) => P(...p).join(',')).join(' ') }, routes);
      const ahead = route.slice(r.reached).map((id) => markers.get(id)).filter(Boolean);
      const pts = (here ? [here] : []).concat(ahead);
      if (pts.length > 1) {
        S('polyline', { class: 'route', stroke: color(robotState(r)), 'data-robot': r.id, points: pts.map((p) => P(...p).join(',')).join(' ') }, routes);
      }
    }
  }
  for (const r of fleet) {
    const here = pos.get(r.id);
    if (!here) continue;
    for (const h of r.holds || []) {
      for (const other of heldWith(h, ids, r.id)) {
        const there = pos.get(other);
        if (!there) continue;
        const [x1, y1] = P(...here), [x2, y2] = P(...there);
        S('line', { class: 'holdlink', x1, y1, x2, y2 }, holds);
      }
    }
  }
  for (const c of snap.conflicts || []) {
    const [x, y] = P(c.x_m, c.y_m), s = 0.04;
    const g = S('g', { class: 'conflict', 'data-robot': c.robot }, holds);
    S('path', { d: `M${x - s} ${y - s}L${x + s} ${y + s}M${x - s} ${y + s}L${x + s} ${y - s}` }, g);
    S('title', {}, g, `${c.robot} held${c.with ? ' for ' + c.with : ''}: ${c.reason || ''}`);
    S('text', { x: x + s * 1.5, y: y - s }, g, c.with ? `${c.robot}⇄${c.with}` : c.robot);
  }
  if (snap.world && $('#show-truth').checked) {
    for (const t of snap.world.robots || []) {
      const g = S('g', { class: 'truth', 'data-robot': t.robot }, truth);
      const [x, y] = P(t.x_m, t.y_m);
      S('circle', { cx: x, cy: y, r: rr }, g);
      const [hx, hy] = P(t.x_m + Math.cos(t.theta_rad) * rr, t.y_m + Math.sin(t.theta_rad) * rr);
      S('line', { x1: x, y1: y, x2: hx, y2: hy }, g);
      const est = pos.get(t.robot);
      if (est) { const [ex, ey] = P(...est); S('line', { x1: x, y1: y, x2: ex, y2: ey }, g); }
    }
  }
  for (const r of fleet) {
    const here = pos.get(r.id);
    if (!here) continue;
    const st = robotState(r);
    const p = snap.poses[r.id] || {};
    const [x, y] = P(...here);
    const g = S('g', { class: 'robot' + (r.id === selected ? ' selected' : ''), 'data-robot': r.id, 'data-state': st, 'data-x': fmt(here[0], 4), 'data-y': fmt(here[1], 4) }, robots);
    if ((r.holds || []).length) S('circle', { class: 'holdring', cx: x, cy: y, r: rr + 0.035 }, g);
    S('circle', { class: 'body', cx: x, cy: y, r: rr, fill: color(st) }, g);
    if (p.theta_rad !== undefined && p.theta_rad !== null) {
      const [hx, hy] = P(here[0] + Math.cos(p.theta_rad) * rr * 1.05, here[1] + Math.sin(p.theta_rad) * rr * 1.05);
      S('line', { class: 'heading', x1: x, y1: y, x2: hx, y2: hy }, g);
    }
    S('text', { x, y: y - rr - 0.04 }, g, r.id);
    S('title', {}, g, `${r.id}: ${st}`);
    g.addEventListener('click', () => select(r.id));
  }
}

function select(id) {
  selected = selected === id ? '' : id;
  render();
  const card = $(`.robot-card[data-robot="${id}"]`);
  if (card && selected) card.scrollIntoView({ block: 'nearest' });
}

function drawLegend() {
  const lg = $('#legend');
  if (lg.childElementCount) return;
  for (const [st, c] of Object.entries(STATES)) {
    const s = el('span', {}, lg);
    const i = el('i', {}, s); i.style.background = c;
    s.append(st.replace('_', ' '));
  }
  const t = el('span', { class: 'truth' }, lg); el('i', {}, t); t.append('sim ground truth');
  const c = el('span', { class: 'conflict' }, lg); el('i', {}, c, '✕ '); c.append('conflict point');
}

// ---------- robot cards ----------
function card(r) {
  let c = $(`.robot-card[data-robot="${r.id}"]`);
  if (c) return c;
  c = el('div', { class: 'robot-card', 'data-robot': r.id }, $('#robots'));
  const row = el('div', { class: 'row' }, c);
  el('span', { class: 'rid', title: 'show on the arena' }, row, r.id).addEventListener('click', () => select(r.id));
  el('span', { class: 'badge state' }, row);
  el('span', { class: 'flags dim' }, row);
  el('span', { class: 'seen dim' }, row);
  const pr = el('div', { class: 'row' }, c);
  el('div', { class: 'bar' }, pr).appendChild(el('i'));
  el('span', { class: 'ptext' }, pr);
  el('div', { class: 'kv' }, c);
  el('div', { class: 'holds' }, c);
  el('div', { class: 'err' }, c);
  const ctl = el('div', { class: 'controls' }, c);
  for (const [a, label] of [['hold', '❚❚ Hold'], ['resume', '▶ Resume'], ['stop', '■ Stop']]) {
    const b = el('button', { 'data-act': a, title: `POST /api/robots/${r.id}/${a}` }, ctl, label);
    b.addEventListener('click', () => act(b, 'POST', `/api/robots/${encodeURIComponent(r.id)}/${a}`, undefined, `${a} ${r.id}`));
  }
  const inp = el('input', { class: 'route', 'data-robot': r.id, title: 'route: marker ids, the last is the final goal', spellcheck: 'false' }, ctl);
  inp.addEventListener('input', () => inp.classList.add('dirty'));
  inp.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') save.click();
    if (e.key === 'Escape') { inp.classList.remove('dirty'); render(); }
  });
  const save = el('button', { 'data-act': 'mission', title: `PUT /api/missions/${r.id}` }, ctl, 'Set route');
  save.addEventListener('click', async () => {
    const text = inp.value.trim();
    const route = text === '' ? [] : text.split(/[\s,]+/).map(Number);
    if (route.some((n) => !Number.isInteger(n))) { notice('error', `route of ${r.id}: "${text}" is not a list of marker ids`); return; }
    const ok = await act(save, 'PUT', `/api/missions/${encodeURIComponent(r.id)}`, { route }, `set route of ${r.id}`);
    if (ok) inp.classList.remove('dirty');
  });
  return c;
}

function renderRobots() {
  const fleet = snap.fleet.robots || [];
  const seen = new Set();
  for (const r of fleet) {
    seen.add(r.id);
    const c = card(r);
    const st = robotState(r);
    const p = snap.poses[r.id] || {};
    c.dataset.state = st;
    c.dataset.remaining = String(Math.max(0, (r.route || []).length - r.reached));
    c.style.setProperty('--c', color(st));
    c.classList.toggle('selected', r.id === selected);
    $('.state', c).textContent = st.replace('_', ' ');
    const flags = [];
    if (r.mapping) flags.push('mapping sweep');
    if (r.done) flags.push('mission done');
    if (!r.online && r.offline_reason) flags.push(r.offline_reason);
    const sb = (snap.statuses || {})[r.id];
    if (sb && sb.reason && (st === 'fault' || st === 'failsafe' || st === 'blocked')) flags.push(sb.reason);
    $('.flags', c).textContent = flags.join(' · ');
    $('.seen', c).textContent = ago(r.last_seen);
    const n = (r.route || []).length;
    $('.bar i', c).style.width = n ? `${(100 * r.reached) / n}%` : '0%';
    const tgt = r.target !== undefined ? `→ marker ${r.target}` : (r.done ? 'at goal' : 'no target');
    const dist = r.distance_m ?? p.distance_m;
    $('.ptext', c).textContent = n ? `step ${Math.min(r.reached + 1, n)}/${n} ${tgt}${dist !== undefined && dist !== null ? ` · ${fmt(dist)} m` : ''} · released ${r.released}` : 'no mission';
    const here = robotPos(r);
    const th = p.theta_rad;
    $('.kv', c).textContent = here
      ? `x ${fmt(here[0])} m  y ${fmt(here[1])} m  θ ${th !== undefined && th !== null ? fmt((th * 180) / Math.PI, 0) + '°' : '–'}  ${fmt(p.speed_mps)} m/s`
      : 'position unknown';
    $('.holds', c).textContent = (r.holds || []).map((h) => '❚❚ ' + h).join('   ');
    $('.err', c).textContent = r.mission_error ? `mission: ${r.mission_error}` : '';
    const inp = $('input.route', c);
    if (document.activeElement !== inp && !inp.classList.contains('dirty')) inp.value = (r.route || []).join(', ');
  }
  for (const c of document.querySelectorAll('.robot-card')) if (!seen.has(c.dataset.robot)) c.remove();
  const online = fleet.filter((r) => r.online).length;
  $('#robot-count').textContent = `${online}/${fleet.length} online`;
}

// ---------- log, checkpoints, counters ----------
function kindClass(k) {
  if (/fault|failsafe|blocked|offline|stale|stop/.test(k)) return 'bad';
  if (/hold|yield|backoff/.test(k)) return 'hold';
  if (/checkpoint|resume|clear|map/.test(k)) return 'good';
  return '';
}
function renderLog() {
  const ol = $('#log'); ol.replaceChildren();
  for (const e of [...(snap.log || [])].reverse()) {
    const li = el('li', {}, ol);
    el('span', { class: 't' }, li, clock(e.ts));
    el('span', { class: 'who' }, li, e.robot || 'fleet');
    el('span', { class: 'kind ' + kindClass(e.kind) }, li, e.kind);
    let d = e.detail || '';
    if (e.kind === 'checkpoint') d = `marker ${e.marker}, step ${e.step}${e.final ? ' (final)' : ''}`;
    if (e.other) d = `${e.other} ${d}`;
    el('span', { class: 'd' }, li, d).title = d;
  }
  const cp = $('#checkpoints'); cp.replaceChildren();
  for (const e of [...(snap.checkpoints || [])].reverse()) {
    const li = el('li', {}, cp);
    el('span', { class: 't' }, li, clock(e.ts));
    el('span', { class: 'who' }, li, e.robot);
    el('span', {}, li, `reached marker ${e.marker} (step ${e.step})${e.final ? ' ✔ final goal' : ''}`);
  }
  const s = snap.fleet.stats || {};
  const rows = [
    ['epoch', snap.fleet.epoch], ['checkpoints', s.checkpoints], ['duplicates', s.duplicate_checkpoints],
    ['directives', s.directives], ['holds issued', s.holds_issued], ['holds finished', s.holds_finished],
    ['longest hold', s.hold_max_ns ? `${fmt(s.hold_max_ns / 1e9, 1)} s` : '–'], ['head-ons', s.head_ons],
    ['rejected', s.rejected], ['sweeps', s.sweeps], ['offline will/silence', `${s.offline_by_will ?? 0} / ${s.offline_by_silence ?? 0}`],
  ];
  if (snap.world) rows.push(['sim time', `${fmt(snap.world.sim_time_s, 1)} s`], ['sim collisions', snap.world.collisions]);
  const dl = $('#stats'); dl.replaceChildren();
  for (const [k, v] of rows) { el('dt', {}, dl, k); el('dd', { 'data-stat': k }, dl, v ?? 0); }
}

function renderHeader() {
  const o = snap.orchestrator;
  const op = $('#orch');
  op.textContent = o ? `orchestrator ${o.state} · epoch ${o.epoch}` : `orchestrator · epoch ${snap.fleet.epoch}`;
  op.className = 'pill ' + (!o || o.state === 'online' ? 'ok' : 'bad');
  const fs = $('#fleetstate');
  fs.hidden = !snap.fleet.fleet_stopped;
  fs.textContent = 'FLEET STOPPED'; fs.className = 'pill bad';
  const sp = $('#simpill');
  sp.hidden = !snap.world;
  if (snap.world) {
    sp.textContent = `sim · ${snap.world.collisions} collision${snap.world.collisions === 1 ? '' : 's'}`;
    sp.className = 'pill ' + (snap.world.collisions ? 'bad' : 'ok');
  }
  const { D } = geometry();
  const m = snap.map;
  $('#arena-info').textContent = m
    ? `⌀ ${fmt(D)} m · ${m.markers.length} markers · scale ${fmt(m.scale, 3)}${m.mapped_by ? ' · mapped by ' + m.mapped_by : ''}`
    : `⌀ ${fmt(D)} m · no map${snap.fleet.mapper ? ' · ' + snap.fleet.mapper + ' is sweeping' : ''}`;
}

function render() {
  if (!snap) return;
  const { R } = geometry();
  const markers = markerPos();
  drawStatic(R, markers);
  drawDynamic(R, markers);
  renderRobots();
  renderLog();
  renderHeader();
}

// ---------- live updates ----------
function connect() {
  const live = $('#live');
  delete document.body.dataset.watch;
  es = new EventSource('/events');
  const mine = es;
  es.addEventListener('snapshot', (ev) => {
    if (es !== mine) return;
    try { snap = JSON.parse(ev.data); } catch (e) { notice('error', `bad snapshot from the server: ${e.message}`, 'snap'); return; }
    updates++;
    document.body.dataset.updates = String(updates);
    render();
  });
  es.onopen = () => { live.textContent = 'live'; live.className = 'pill ok'; clearNotice('conn'); };
  es.onerror = () => {
    live.textContent = 'reconnecting…'; live.className = 'pill bad';
    notice('error', 'lost the live connection to the orchestrator: reconnecting', 'conn');
    // A refusal (503: too many dashboards; 401: the session expired)
    // closes the stream for good: look at the session again later, which
    // reconnects or asks for a login, instead of giving up.
    if (mine.readyState === EventSource.CLOSED) {
      mine.close();
      if (es !== mine) return; // replaced or closed by a logout
      es = null;
      setTimeout(() => { if (!es) loadSession(); }, 3000);
    }
  };
}

// ---------- missions upload ----------
async function upload(ev) {
  const f = ev.target.files[0];
  ev.target.value = '';
  if (!f) return;
  let r, data = {};
  try {
    r = await fetch('/missions/parse', { method: 'POST', credentials: 'same-origin', body: await f.text() });
    data = await r.json().catch(() => ({}));
  } catch (e) { notice('error', `missions file ${f.name}: ${e.message}`); return; }
  if (!r.ok) { notice('error', `missions file ${f.name} rejected (${r.status}): ${data.error || r.statusText}`); return; }
  let ok = 0;
  const ids = Object.keys(data.robots || {});
  for (const id of ids) if (await api('PUT', `/api/missions/${encodeURIComponent(id)}`, { route: data.robots[id] }, `route of ${id} from ${f.name}`)) ok++;
  notice(ok === ids.length ? 'ok' : 'error', `missions file ${f.name}: ${ok} of ${ids.length} routes set`, ok === ids.length ? 'ok' : undefined);
}

window.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  $('#stop-all').addEventListener('click', (e) => act(e.currentTarget, 'POST', '/api/fleet/stop', undefined, 'stop all'));
  $('#resume-all').addEventListener('click', (e) => act(e.currentTarget, 'POST', '/api/fleet/resume', undefined, 'resume all'));
  $('#sweep').addEventListener('click', (e) => act(e.currentTarget, 'POST', '/api/map/sweep', undefined, 'map sweep'));
  $('#missions-file').addEventListener('change', upload);
  for (const id of ['#show-truth', '#show-routes']) $(id).addEventListener('change', render);
  drawLegend();
  loadSession();
  setInterval(() => { if (snap) renderRobots(); }, 1000); // keep "seen ... ago" honest
});
