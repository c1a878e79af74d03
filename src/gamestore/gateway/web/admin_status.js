// Admin: the state of every process at a glance (GET /admin/status), refreshed while shown.

import { authed } from './api.js';
import { errorBox, h, replace } from './dom.js';

const EVERY_MS = 5000;
const dash = '—';
const number = (value, digits = 1) => (value == null ? dash : Number(value).toFixed(digits));

function badge(ok, yes, no) {
  if (ok == null) return h('span', { class: 'muted', text: dash });
  return h('span', { class: ok ? 'state-ok' : 'state-bad', text: ok ? yes : no });
}

function processRow(row) {
  const up = row.up && row.alive;
  const notes = row.down.length ? `sem acesso a: ${row.down.join(', ')}` : (row.state || '');
  return h('tr', {},
    h('th', { scope: 'row', text: row.name }),
    h('td', {}, badge(row.up ? up : false, 'no ar', row.up ? 'travado' : 'fora do ar')),
    h('td', {}, badge(row.ready, 'pronto', 'não pronto')),
    h('td', { text: row.restarts ?? dash }),
    h('td', { text: number(row.requests_per_second) }),
    h('td', { text: number(row.p95_ms) }),
    h('td', { text: notes }));
}

function flowRows(flows) {
  const rows = [];
  for (const [group, lag] of Object.entries(flows.consumer_lag_events)) {
    const seconds = flows.consumer_lag_seconds[group] ?? 0;
    rows.push([`Consumidor ${group}`, `${number(lag, 0)} eventos, ${number(seconds)} s de atraso`]);
  }
  for (const [queue, depth] of Object.entries(flows.queue_depth)) {
    const oldest = flows.queue_oldest_seconds[queue];
    rows.push([`Fila ${queue}`, `${number(depth, 0)} aguardando${oldest == null ? '' : `, a mais antiga há ${number(oldest)} s`}`]);
  }
  rows.push(['Mensagens mortas (DLQ)', String(flows.dead_letters)]);
  for (const [service, backlog] of Object.entries(flows.outbox_backlog)) {
    rows.push([`Outbox de ${service}`, `${number(backlog, 0)} eventos a publicar`]);
  }
  return rows.map(([what, value]) => h('tr', {}, h('th', { scope: 'row', text: what }), h('td', { text: value })));
}

function tables(status) {
  const head = ['Processo', 'Vivo', 'Pronto', 'Reinícios', 'Req/s', 'p95 (ms)', 'Observações'];
  return [
    h('table', { class: 'table' },
      h('caption', { text: 'Processos' }),
      h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, status.processes.map(processRow))),
    h('table', { class: 'table' },
      h('caption', { text: 'Fluxos' }),
      h('tbody', {}, flowRows(status.flows))),
  ];
}

export async function statusView() {
  const body = h('div', { 'aria-live': 'polite' }, ...tables(await authed('GET', '/admin/status')));
  const root = h('section', {}, h('h1', { text: 'Admin: estado do sistema' }),
    h('p', { class: 'muted', text: 'O que cada processo diz de si mesmo (/healthz, /readyz e /metrics), atualizado a cada 5 segundos.' }),
    body);
  const refresh = async () => {
    if (!document.body.contains(root)) return; // another screen replaced this one
    try {
      replace(body, ...tables(await authed('GET', '/admin/status')));
    } catch (error) {
      replace(body, errorBox(error));
    }
    setTimeout(refresh, EVERY_MS);
  };
  setTimeout(refresh, EVERY_MS);
  return root;
}
