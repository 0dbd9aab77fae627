// The emulator dashboard's page: signs in with the operator password, then draws what the server-sent events
// say (state: codes and devices; trace: one protocol line; turn: a turn made or completed) and posts the
// operator's actions. Plain DOM, no framework; text from the cloud only ever goes in through textContent.
const SVG = 'http://www.w3.org/2000/svg';
const LEDS = 12;
const TRACE_KEEP = 500;
const $ = (selector, root = document) => root.querySelector(selector);

/** Per device id: its card and what the page keeps of it. */
const devices = new Map();
/** Server time minus ours, for the alerts' countdowns. */
let skewMs = 0;

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function drawRing(ring) {
  const leds = svg('g', { class: 'leds' });
  for (let i = 0; i < LEDS; i++) {
    const angle = (i / LEDS) * 2 * Math.PI;
    leds.append(svg('circle', { class: 'led', cx: (40 * Math.sin(angle)).toFixed(2), cy: (-40 * Math.cos(angle)).toFixed(2), r: 7 }));
  }
  ring.append(leds, svg('circle', { class: 'hub', r: 24 }));
}

/** A waveform of peaks 0..1000 as vertical strokes around the middle line. */
function drawWave(kind, peaks) {
  const width = 240, height = 40, mid = height / 2;
  const wave = svg('svg', { class: `wave ${kind}`, viewBox: `0 0 ${width} ${height}`, 'aria-label': `${kind} waveform` });
  const step = width / Math.max(peaks.length, 1);
  const d = peaks.map((p, i) => {
    const x = (i * step + step / 2).toFixed(1);
    const h = Math.max(0.5, (p / 1000) * mid);
    return `M${x},${(mid - h).toFixed(1)}V${(mid + h).toFixed(1)}`;
  }).join('');
  const path = svg('path', { d, 'stroke-width': Math.max(1, step * 0.7).toFixed(1) });
  wave.append(path);
  return wave;
}

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, reply: response.status === 204 ? { ok: true } : await response.json() };
}

async function act(body) {
  const { reply } = await post('/api/action', body);
  const line = $('#action-result');
  line.textContent = reply.message;
  line.className = reply.ok ? 'quiet' : 'error';
}

function card(id) {
  let device = devices.get(id);
  if (device) return device;
  const element = $('#device-template').content.firstElementChild.cloneNode(true);
  element.dataset.device = id;
  $('.id', element).textContent = id;
  drawRing($('.ring', element));
  for (const button of element.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', () => {
      const action = button.dataset.action;
      if (action === 'timer') return act({ action, id, seconds: Number($('.seconds', element).value) });
      if (action === 'say') return act({ action, id, text: $('.say-text', element).value });
      if (action === 'notify') return act({ action, id, text: $('.notify-text', element).value });
      return act({ action, id });
    });
  }
  device = { element, traces: [], turns: new Map(), alerts: [] };
  $('.filter', element).addEventListener('input', () => drawTrace(device));
  $('.direction', element).addEventListener('change', () => drawTrace(device));
  devices.set(id, device);
  $('#devices').append(element);
  return device;
}

function showState(state) {
  skewMs = state.now - Date.now();
  const codes = $('#codes');
  codes.replaceChildren(...state.codes.map((code) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.textContent = 'Approve';
    button.addEventListener('click', () => act({ action: 'approve', code }));
    item.append(Object.assign(document.createElement('code'), { textContent: code }), ' ', button);
    item.dataset.code = code;
    return item;
  }));
  $('#no-codes').hidden = state.codes.length > 0;
  $('#no-devices').hidden = state.devices.length > 0;
  for (const view of state.devices) {
    const device = card(view.id);
    const e = device.element;
    const attention = view.connected ? view.attention ?? 'unknown' : 'offline';
    e.classList.toggle('offline', !view.connected);
    e.dataset.attention = attention;
    $('.ring', e).setAttribute('class', `ring ${attention}`);
    $('.attention', e).textContent = attention;
    const connection = $('.connection', e);
    connection.textContent = view.connected ? 'connected' : 'offline';
    connection.className = `connection ${view.connected ? 'connected' : 'offline'}`;
    $('.details', e).textContent = `${view.connections} connection(s) · locale ${view.locale ?? '?'}${view.localeRefused ? ` (refused ${view.localeRefused})` : ''} · endpoint ${view.endpoint} · registered ${view.registeredAt}`;
    $('.card-line', e).textContent = view.card ? `card: ${view.card}` : '';
    $('.endpoints', e).replaceChildren(...view.connectedEndpoints.map((p) => {
      const item = document.createElement('li');
      item.dataset.endpoint = p.name;
      const power = p.power === undefined ? 'state unknown' : p.power ? 'on' : 'off';
      item.textContent = `${p.name}: ${power}${p.brightness === undefined ? '' : `, ${p.brightness} %`}${p.error ? ` (refused: ${p.error})` : ''}`;
      return item;
    }), ...(view.notifications.length ? [Object.assign(document.createElement('li'), { className: 'notifications', textContent: `${view.notifications.length} unread notification(s): ${view.notifications.join(' · ')}` })] : []));
    $('.volume', e).value = view.volume ?? 0;
    $('.volume-text', e).textContent = `${view.volume ?? '?'} (alerts ${view.alertVolume ?? '?'})`;
    device.alerts = view.alerts;
    drawAlerts(device);
  }
}

function drawAlerts(device) {
  const now = Date.now() + skewMs;
  $('.alerts', device.element).replaceChildren(...device.alerts.map((a) => {
    const item = document.createElement('li');
    const left = Math.max(0, Math.ceil((a.dueAt - now) / 1000));
    item.textContent = `${a.type} ${a.label} (${a.token}): ${a.ringing ? 'ringing' : `in ${left} s`}${a.confirmed ? '' : ', not confirmed yet'}`;
    return item;
  }));
}

function showTurn(id, turn) {
  const device = card(id);
  let item = device.turns.get(turn.n);
  if (!item) {
    item = document.createElement('li');
    device.turns.set(turn.n, item);
    $('.turns', device.element).prepend(item);
  }
  item.className = 'turn';
  const lines = [];
  const line = (cls, text) => { const p = document.createElement('div'); p.className = cls; p.textContent = text; lines.push(p); };
  if (turn.operator) line('said', `operator had it say "${turn.answer}"`);
  else {
    line('heard', `heard: "${turn.heard}"${turn.rejected ? ' (not understood)' : ''}`);
    if (turn.answer !== undefined) line('answer', `answer: "${turn.answer}" (${turn.intent})`);
    if (turn.latencyMs !== undefined) line('latency', `end of speech → first audio: ${turn.latencyMs} ms`);
  }
  const waves = document.createElement('div');
  waves.className = 'waves';
  if (turn.uplink) waves.append(drawWave('uplink', turn.uplink));
  if (turn.speaker) waves.append(drawWave('speaker', turn.speaker));
  item.replaceChildren(...lines, waves);
}

function showTrace(id, trace) {
  const device = card(id);
  device.traces.push(trace);
  if (device.traces.length > TRACE_KEEP) device.traces.shift();
  drawTrace(device);
}

function drawTrace(device) {
  const e = device.element;
  const filter = $('.filter', e).value.toLowerCase();
  const direction = $('.direction', e).value;
  const pre = $('.trace', e);
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = device.traces
    .filter((t) => (!direction || t.line.startsWith(direction)) && (!filter || t.line.toLowerCase().includes(filter)))
    .map((t) => `${new Date(t.at).toISOString().slice(11, 23)} ${t.line}`).join('\n');
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

function listen() {
  const events = new EventSource('/api/events');
  let opened = false;
  events.addEventListener('open', () => {
    opened = true;
    // The server sends everything it keeps again on each (re)connection.
    for (const device of devices.values()) device.traces = [];
    $('#login').hidden = true;
    $('#main').hidden = false;
    $('#status').textContent = 'live';
  });
  events.addEventListener('error', () => {
    // A refused stream (401) is closed for good: sign in. A dropped one reconnects by itself.
    if (events.readyState === EventSource.CLOSED) {
      $('#status').textContent = opened ? 'disconnected' : 'not signed in';
      $('#login').hidden = false;
    } else $('#status').textContent = 'reconnecting…';
  });
  events.addEventListener('state', (m) => showState(JSON.parse(m.data).state));
  events.addEventListener('trace', (m) => { const e = JSON.parse(m.data); showTrace(e.id, e.trace); });
  events.addEventListener('turn', (m) => { const e = JSON.parse(m.data); showTurn(e.id, e.turn); });
}

$('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { reply } = await post('/api/login', { password: $('#password').value });
  $('#login-error').textContent = reply.ok ? '' : reply.message;
  if (reply.ok) listen();
});
setInterval(() => { for (const device of devices.values()) drawAlerts(device); }, 250);
listen();
