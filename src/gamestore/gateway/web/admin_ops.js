// Admin operations: every dead letter — the payment queue's and the event bus consumer groups'
// (replay, discard, each after a confirmation; the list follows the queue live) — and the
// event-store browser, newest first (filter by stream, type and correlation id; click a
// correlation id to follow it; "mais antigos" pages back).

import { authed, itemsOf, withQuery } from './api.js';
import { confirmDialog } from './dialog.js';
import { announce, busy, dateTime, errorBox, field, h, replace } from './dom.js';
import { go } from './router.js';

const POLL_MS = 3000;
const pretty = (value) => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));
const origin = (letter) => (letter.source === 'bus'
  ? `Consumidor ${letter.queue || '—'} (barramento)` : `Fila ${letter.queue || '—'}`);

function correlationCell(letter) {
  const corr = letter.correlation_id;
  if (!corr) return h('td', { text: '—' });
  return h('td', {}, h('a', {
    class: 'mono', href: eventsHash({ correlation_id: corr }),
    text: corr, title: 'Ver os eventos desta correlação',
  }));
}

const ACTIONS = {
  replay: {
    label: 'Reprocessar', busy: 'Reenviando…', method: 'POST', suffix: '/replay', done: 'Mensagem devolvida à fila.',
    ask: (letter) => ({ title: 'Reprocessar a mensagem?', confirm: 'Reprocessar',
      text: `${origin(letter)}: a mensagem ${letter.id} volta a ser processada, com novas tentativas. Se falhar de novo, volta para esta lista.` }),
  },
  discard: {
    label: 'Descartar', busy: 'Descartando…', method: 'DELETE', suffix: '', done: 'Mensagem descartada.', danger: true,
    ask: (letter) => ({ title: 'Descartar a mensagem?', confirm: 'Descartar', danger: true,
      text: `${origin(letter)}: a mensagem ${letter.id} sai da fila de erros para sempre e não será processada.` }),
  },
};

function actionButton(letter, kind, slot, refresh) {
  const action = ACTIONS[kind];
  const path = `/admin/dlq/${encodeURIComponent(letter.id)}${action.suffix}`;
  return h('button', {
    type: 'button', text: action.label, class: action.danger ? 'danger' : '',
    'aria-label': `${action.label} a mensagem ${letter.id}`,
    onclick: async (event) => {
      const button = event.currentTarget;
      if (!await confirmDialog(action.ask(letter))) return;
      await busy(button, action.busy, async () => {
        try {
          await authed(action.method, path);
          announce(action.done, 'ok');
          refresh();
        } catch (error) {
          replace(slot, errorBox(error));
        }
      });
    },
  });
}

function letterRow(letter, refresh) {
  const actions = h('div', { class: 'actions' });
  replace(actions, actionButton(letter, 'replay', actions, refresh), actionButton(letter, 'discard', actions, refresh));
  return h('tr', { 'data-id': letter.id },
    h('td', { class: 'mono', text: letter.id }),
    h('td', { text: origin(letter) }),
    h('td', { text: letter.attempts ?? '—' }),
    h('td', { class: 'error-text', text: letter.error || '—' }),
    h('td', { text: dateTime(letter.dead_lettered_at) }),
    correlationCell(letter),
    h('td', {}, h('details', {}, h('summary', { text: 'Ver' }), h('pre', { text: pretty(letter.message) }))),
    h('td', {}, actions));
}

function lettersTable(letters, refresh) {
  if (!letters.length) return h('p', { class: 'muted', text: 'Nenhuma mensagem na fila de erros.' });
  return h('table', { class: 'table' },
    h('caption', { class: 'sr-only', text: 'Mensagens mortas' }),
    h('thead', {}, h('tr', {}, ['Id', 'Origem', 'Tentativas', 'Último erro', 'Quando', 'Correlação', 'Mensagem', 'Ações'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, letters.map((letter) => letterRow(letter, refresh))));
}

/** The dead letters, read again every few seconds while the screen is open and right after an
 * action (a replay that fails again comes back); redrawn only when something changed, so a
 * focused button keeps its focus. */
class LetterList {
  constructor() {
    this.slot = h('div', { id: 'mensagens' });
    this.shown = null;
    this.timer = null;
  }

  async load() {
    const letters = itemsOf(await authed('GET', '/admin/dlq'));
    const seen = JSON.stringify(letters);
    if (seen === this.shown) return;
    this.shown = seen;
    replace(this.slot, lettersTable(letters, () => this.refresh()));
  }

  refresh() {
    this.load().catch((error) => replace(this.slot, errorBox(error)));
  }

  follow() {
    let attached = false;
    this.timer = setInterval(() => {
      if (this.slot.isConnected) attached = true;
      else if (attached) { clearInterval(this.timer); return; }  // the admin left the screen
      if (attached && !document.hidden) this.load().catch(() => {});  // the next tick retries
    }, POLL_MS);
  }
}

export async function dlqView() {
  const list = new LetterList();
  await list.load();
  list.follow();
  return h('section', {}, h('h1', { text: 'Admin: fila de erros (DLQ)' }),
    h('p', { class: 'muted', text: 'Pagamentos que falharam todas as tentativas e eventos que um consumidor não conseguiu processar. Reprocessar devolve a mensagem à sua fila, ou o evento ao seu consumidor. A lista se atualiza sozinha.' }),
    list.slot);
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
  const before = Number(query.get('before'));
  return {
    stream: query.get('stream') || '', type: query.get('type') || '',
    correlation_id: query.get('correlation_id') || '', before: before > 0 ? before : null,
  };
}

const eventsHash = (f) => withQuery('#/admin/eventos', {
  stream: f.stream, type: f.type, correlation_id: f.correlation_id, before: f.before,
});

/** Up to a page of matching events below ``before``, newest first. A filtered page may come
 * back short while older ones match, so a few pages are read; ``next_before`` null means the
 * oldest event was read. */
async function scan(f) {
  const found = [];
  let before = f.before;
  let end = false;
  for (let i = 0; i < SCAN_PAGES && found.length < PAGE && !end; i += 1) {
    const path = withQuery('/admin/events', { order: 'desc', before, limit: PAGE - found.length, stream: f.stream, type: f.type, correlation_id: f.correlation_id });
    const body = await authed('GET', path);
    found.push(...itemsOf(body));
    end = !body || !Number.isFinite(body.next_before);
    before = end ? null : body.next_before;
  }
  return { events: found, before, end };
}

function filterButton(label, text, filters) {
  return h('button', { type: 'button', class: 'link mono', text, title: label, 'aria-label': `${label}: ${text}`, onclick: () => go(eventsHash(filters)) });
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
  const form = h('form', { class: 'filters panel', role: 'search', 'aria-label': 'Filtrar eventos' },
    field({ id: 'stream', label: 'Stream', value: f.stream, attrs: { placeholder: 'payment-…' } }),
    field({ id: 'type', label: 'Tipo', value: f.type, attrs: { list: 'tipos' } }), types,
    field({ id: 'correlation_id', label: 'Correlação', value: f.correlation_id }),
    h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary', text: 'Filtrar' }),
      h('a', { href: '#/admin/eventos', class: 'button', text: 'Limpar' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = (id) => form.querySelector(`#${id}`).value.trim();
    go(eventsHash({ stream: v('stream'), type: v('type'), correlation_id: v('correlation_id') }));
  });
  return form;
}

async function eventsTable(f) {
  try {
    const { events, before, end } = await scan(f);
    return [
      events.length ? h('table', { class: 'table events' },
        h('caption', { class: 'sr-only', text: 'Eventos, os mais recentes primeiro' }),
        h('thead', {}, h('tr', {}, ['Posição', 'Quando', 'Tipo', 'Stream', 'Correlação', 'Dados'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, events.map(eventRow))) : h('p', { class: 'muted', text: 'Nenhum evento com esses filtros.' }),
      h('nav', { class: 'pager', 'aria-label': 'Paginação' },
        f.before ? h('a', { href: eventsHash({ ...f, before: null }), text: '⇤ Mais recentes' }) : null,
        end ? h('span', { class: 'muted', text: 'Início do log.' }) : h('a', { href: eventsHash({ ...f, before }), text: 'Mais antigos →' })),
    ];
  } catch (error) {
    return errorBox(error);
  }
}

export async function eventsView({ query }) {
  const f = filtersFrom(query);
  const table = await eventsTable(f);
  const active = [f.stream && `stream ${f.stream}`, f.type && `tipo ${f.type}`, f.correlation_id && `correlação ${f.correlation_id}`].filter(Boolean);
  const where = f.before ? `, anteriores à posição ${f.before}` : '';
  return h('section', {}, h('h1', { text: 'Admin: eventos' }), eventFilters(f),
    h('p', { class: 'muted', role: 'status', text: active.length ? `Filtrando por ${active.join(', ')}; os mais recentes primeiro${where}.` : `Todos os eventos, os mais recentes primeiro${where}.` }),
    table);
}
