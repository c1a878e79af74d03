// Admin operations: every dead letter — the payment queue's and the event bus consumer groups'
// (replay, delete) — and the event-store browser (filter by stream, type and correlation id;
// click a correlation id to follow it).

import { authed, itemsOf, withQuery } from './api.js';
import { announce, busy, dateTime, errorBox, field, h, replace } from './dom.js';
import { go } from './router.js';

const pretty = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));
const origin = (letter) => (letter.source === 'bus'
  ? `Consumidor ${letter.queue || '—'} (barramento)` : `Fila ${letter.queue || '—'}`);

function correlationCell(letter) {
  const corr = letter.correlation_id;
  if (!corr) return h('td', { text: '—' });
  return h('td', {}, h('a', {
    class: 'mono', href: eventsHash({ stream: '', type: '', correlation_id: corr, after: 0 }),
    text: corr, title: 'Ver os eventos desta correlação',
  }));
}

function letterRow(letter, reload) {
  const actions = h('div', { class: 'actions' });
  const act = (label, busyText, method, path, done) => h('button', {
    type: 'button', text: label, class: method === 'DELETE' ? 'danger' : '',
    'aria-label': `${label} a mensagem ${letter.id}`,
    onclick: (event) => busy(event.target, busyText, async () => {
      try {
        await authed(method, path);
        announce(done, 'ok');
        reload();
      } catch (error) {
        replace(actions, errorBox(error));
      }
    }),
  });
  const id = encodeURIComponent(letter.id);
  replace(actions,
    act('Reprocessar', 'Reenviando…', 'POST', `/admin/dlq/${id}/replay`, 'Mensagem devolvida à fila.'),
    act('Excluir', 'Excluindo…', 'DELETE', `/admin/dlq/${id}`, 'Mensagem excluída.'));
  return h('tr', {},
    h('td', { class: 'mono', text: letter.id }),
    h('td', { text: origin(letter) }),
    h('td', { text: letter.attempts ?? '—' }),
    h('td', { text: letter.error || '—' }),
    h('td', { text: dateTime(letter.dead_lettered_at) }),
    correlationCell(letter),
    h('td', {}, h('details', {}, h('summary', { text: 'Ver' }), h('pre', { text: pretty(letter.message) }))),
    h('td', {}, actions));
}

export async function dlqView() {
  const letters = itemsOf(await authed('GET', '/admin/dlq'));
  const reload = () => go('#/admin/dlq');
  const body = letters.length
    ? h('table', { class: 'table' },
      h('caption', { class: 'sr-only', text: 'Mensagens mortas' }),
      h('thead', {}, h('tr', {}, ['Id', 'Origem', 'Tentativas', 'Último erro', 'Quando', 'Correlação', 'Mensagem', 'Ações'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, letters.map((letter) => letterRow(letter, reload))))
    : h('p', { class: 'muted', text: 'Nenhuma mensagem na fila de erros.' });
  return h('section', {}, h('h1', { text: 'Admin: fila de erros (DLQ)' }),
    h('p', { class: 'muted', text: 'Pagamentos que falharam todas as tentativas e eventos que um consumidor não conseguiu processar. Reprocessar devolve a mensagem à sua fila, ou o evento ao seu consumidor.' }),
    body);
}

const EVENT_TYPES = [
  'UserRegistered', 'UserUpdated', 'UserDeleted', 'GameCreated', 'GameUpdated', 'GameDeleted',
  'OrderCreated', 'PaymentRequested', 'PaymentAttempted', 'PaymentProcessing', 'PaymentSucceeded',
  'PaymentFailed', 'PaymentDeadLettered', 'PaymentReopened', 'PaymentAnomalyRecorded',
  'PspWebhookReceived', 'PurchaseCompleted', 'OrderCompleted', 'OrderFailed', 'NotificationSent',
];
const PAGE = 100;
const SCAN_PAGES = 10;

function filtersFrom(query) {
  return {
    stream: query.get('stream') || '', type: query.get('type') || '',
    correlation_id: query.get('correlation_id') || '', after: Number(query.get('after')) || 0,
  };
}

const eventsHash = (f) => withQuery('#/admin/eventos', { ...f, after: f.after || '' });

function matches(event, f) {
  return (!f.stream || event.stream_id === f.stream) && (!f.type || event.type === f.type)
    && (!f.correlation_id || event.correlation_id === f.correlation_id);
}

/** Up to a page of matching events from ``after`` on. The filters go to the server; what an
 * older server ignores is filtered here too. A filtered page may come back short while more
 * follow, so a few pages are read; ``next_after`` not moving means the end of the log. */
async function scan(f) {
  const found = [];
  let cursor = f.after;
  let end = false;
  for (let i = 0; i < SCAN_PAGES && found.length < PAGE && !end; i += 1) {
    const path = withQuery('/admin/events', { after: cursor, limit: PAGE, stream: f.stream, type: f.type, correlation_id: f.correlation_id });
    const body = await authed('GET', path);
    const events = itemsOf(body);
    const last = Math.max(cursor, ...events.map((e) => Number(e.position) || 0));
    const next = body && Number.isFinite(body.next_after) ? Math.max(body.next_after, last) : last;
    end = next <= cursor;
    cursor = next;
    found.push(...events.filter((e) => matches(e, f)));
  }
  return { events: found, cursor, end };
}

function filterButton(label, text, filters) {
  return h('button', { type: 'button', class: 'link mono', text, title: label, 'aria-label': `${label}: ${text}`, onclick: () => go(eventsHash({ ...filters, after: 0 })) });
}

function eventRow(event) {
  return h('tr', {},
    h('td', { text: event.position }),
    h('td', { text: dateTime(event.occurred_at) }),
    h('td', {}, filterButton('Filtrar por tipo', event.type, { type: event.type })),
    h('td', {}, filterButton('Filtrar por stream', event.stream_id, { stream: event.stream_id }), ` v${event.version}`),
    h('td', {}, event.correlation_id ? filterButton('Seguir a correlação', event.correlation_id, { correlation_id: event.correlation_id }) : '—'),
    h('td', {}, h('details', {}, h('summary', { text: 'Dados' }), h('pre', { text: pretty(event.data) }))));
}

function eventFilters(f) {
  const types = h('datalist', { id: 'tipos' }, EVENT_TYPES.map((t) => h('option', { value: t })));
  const form = h('form', { class: 'filters panel' },
    field({ id: 'stream', label: 'Stream', value: f.stream, attrs: { placeholder: 'payment-…' } }),
    field({ id: 'type', label: 'Tipo', value: f.type, attrs: { list: 'tipos' } }), types,
    field({ id: 'correlation_id', label: 'Correlação', value: f.correlation_id }),
    h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary', text: 'Filtrar' }),
      h('a', { href: '#/admin/eventos', class: 'button', text: 'Limpar' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = (id) => form.querySelector(`#${id}`).value.trim();
    go(eventsHash({ stream: v('stream'), type: v('type'), correlation_id: v('correlation_id'), after: 0 }));
  });
  return form;
}

export async function eventsView({ query }) {
  const f = filtersFrom(query);
  let table;
  try {
    const { events, cursor, end } = await scan(f);
    table = [
      events.length ? h('table', { class: 'table events' },
        h('caption', { class: 'sr-only', text: 'Eventos em ordem global' }),
        h('thead', {}, h('tr', {}, ['Posição', 'Quando', 'Tipo', 'Stream', 'Correlação', 'Dados'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, events.map(eventRow))) : h('p', { class: 'muted', text: 'Nenhum evento com esses filtros.' }),
      h('nav', { class: 'pager', 'aria-label': 'Paginação' },
        f.after ? h('a', { href: eventsHash({ ...f, after: 0 }), text: '⇤ Do início' }) : null,
        end ? h('span', { class: 'muted', text: 'Fim do log.' }) : h('a', { href: eventsHash({ ...f, after: cursor }), text: 'Próximos →' })),
    ];
  } catch (error) {
    table = errorBox(error);
  }
  const active = [f.stream && `stream ${f.stream}`, f.type && `tipo ${f.type}`, f.correlation_id && `correlação ${f.correlation_id}`].filter(Boolean);
  return h('section', {}, h('h1', { text: 'Admin: eventos' }), eventFilters(f),
    h('p', { class: 'muted', role: 'status', text: active.length ? `Filtrando por ${active.join(', ')}.` : 'Todos os eventos, em ordem global.' }),
    table);
}
