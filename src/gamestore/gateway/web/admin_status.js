// Admin: the state of every process at a glance (GET /admin/status), refreshed while shown.

import { authed } from './api.js';
import { errorBox, h, replace } from './dom.js';

const EVERY_MS = 5000;
const dash = '—';
const DEPENDENCIES = {
  database: 'banco de dados', event_store: 'event store', broker: 'broker', queue: 'fila',
  search: 'busca', psp: 'PSP',
};
const STATES = { starting: 'iniciando', restarting: 'reiniciando', exited: 'encerrado', stopped: 'parado' };

function number(value, digits = 1) {
  if (value == null) return dash;
  return Number(value).toLocaleString('pt-BR', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function badge(ok, yes, no) {
  if (ok == null) return h('span', { class: 'muted', text: dash });
  return h('span', { class: ok ? 'state-ok' : 'state-bad', text: ok ? yes : no });
}

function life(row) {
  if (!row.up) return 'fora do ar';
  return row.alive ? 'no ar' : 'travado';
}

function notes(row) {
  const said = [];
  if (row.down.length) said.push(`sem acesso a: ${row.down.map((d) => DEPENDENCIES[d] || d).join(', ')}`);
  if (STATES[row.state]) said.push(STATES[row.state]);
  return said.join('; ');
}

function processRow(row) {
  return h('tr', { 'data-process': row.name },
    h('th', { scope: 'row', text: row.name }),
    h('td', {}, badge(row.up && row.alive, 'no ar', life(row))),
    h('td', {}, badge(row.ready, 'pronto', 'não pronto')),
    h('td', { class: 'num', text: row.restarts ?? dash }),
    h('td', { class: 'num', text: number(row.requests_per_second) }),
    h('td', { class: 'num', text: number(row.p95_ms) }),
    h('td', { text: notes(row) }));
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
  rows.push(['Mensagens mortas (DLQ)', number(flows.dead_letters, 0), flows.dead_letters > 0]);
  for (const [service, backlog] of Object.entries(flows.outbox_backlog)) {
    const lag = (flows.outbox_lag_seconds || {})[service];
    rows.push([`Outbox de ${service}`, `${number(backlog, 0)} eventos a publicar${lag ? `, o mais antigo há ${number(lag)} s` : ''}`]);
  }
  return rows.map(([what, value, bad]) => h('tr', {},
    h('th', { scope: 'row', text: what }), h('td', { class: bad ? 'state-bad' : null, text: value })));
}

function scrolling(label, table) {
  // a region of its own, reachable by keyboard, when a narrow screen makes it scroll sideways
  return h('div', { class: 'scroll', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

function tables(status) {
  const head = ['Processo', 'Vivo', 'Pronto', 'Reinícios', 'Req/s', 'p95 (ms)', 'Observações'];
  const numeric = new Set(['Reinícios', 'Req/s', 'p95 (ms)']);
  return [
    scrolling('Processos', h('table', { class: 'table status' },
      h('caption', { text: 'Processos' }),
      h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', class: numeric.has(t) ? 'num' : null, text: t })))),
      h('tbody', {}, status.processes.map(processRow)))),
    scrolling('Fluxos', h('table', { class: 'table status' },
      h('caption', { text: 'Fluxos' }),
      h('tbody', {}, flowRows(status.flows)))),
  ];
}

/** One sentence on the whole: what a screen reader announces when it changes. */
export function verdict(status) {
  const wrong = status.processes.filter((row) => !(row.up && row.alive && row.ready));
  const said = wrong.map((row) => {
    if (!(row.up && row.alive)) return `${row.name} ${life(row)}`;
    return `${row.name} não pronto${row.down.length ? ` (${notes(row)})` : ''}`;
  });
  const dead = status.flows.dead_letters;
  const letters = dead > 0 ? ` ${dead} ${dead === 1 ? 'mensagem morta' : 'mensagens mortas'} na DLQ.` : '';
  if (!said.length) return `Todos os ${status.processes.length} processos no ar e prontos.${letters}`;
  return `Atenção: ${said.join('; ')}.${letters}`;
}

function show(summary, body, status) {
  const text = verdict(status);
  if (summary.textContent !== text) summary.textContent = text;  // announced only on change
  summary.className = `status-verdict ${text.startsWith('Atenção') ? 'state-bad' : 'state-ok'}`;
  replace(body, ...tables(status));
}

export async function statusView() {
  const summary = h('p', { role: 'status' });
  const body = h('div', {});
  show(summary, body, await authed('GET', '/admin/status'));
  const root = h('section', {}, h('h1', { text: 'Admin: estado do sistema' }),
    h('p', { class: 'muted', text: 'O que cada processo diz de si mesmo (/healthz, /readyz e /metrics), atualizado a cada 5 segundos enquanto esta tela está visível.' }),
    summary, body);
  const refresh = async () => {
    if (!document.body.contains(root)) return; // another screen replaced this one
    if (!document.hidden) {
      try {
        show(summary, body, await authed('GET', '/admin/status'));
      } catch (error) {
        replace(body, errorBox(error));
      }
    }
    setTimeout(refresh, EVERY_MS);
  };
  setTimeout(refresh, EVERY_MS);
  return root;
}
