// Admin: the catalog's games, narrowed by title as the admin types, created, edited (If-Match
// on the version read) and deleted, with the API's own validation messages beside each field.

import { authed, get, withQuery } from './api.js';
import { announce, busy, clearFieldErrors, errorBox, field, formProblem, fromCents, h, replace, showFieldErrors, toCents } from './dom.js';
import { formatPrice, genreLabel } from './labels.js';
import { coverWidget } from './admin_cover.js';
import { go, remember } from './router.js';

const PAGE_SIZE = 20;
const DEBOUNCE_MS = 250;
const list = (text) => String(text || '').split(',').map((s) => s.trim()).filter(Boolean);

function deleteCell(game, onDeleted) {
  const cell = h('div', { class: 'actions' });
  const ask = () => replace(cell,
    h('span', { text: 'Excluir? ' }),
    h('button', { type: 'button', class: 'danger', text: 'Sim, excluir', 'aria-label': `Confirmar exclusão de ${game.title}`, onclick: remove }),
    h('button', { type: 'button', text: 'Cancelar', onclick: reset }));
  const reset = () => replace(cell,
    h('a', { href: `#/admin/jogos/${encodeURIComponent(game.id)}`, text: 'Editar', 'aria-label': `Editar ${game.title}` }),
    h('button', { type: 'button', class: 'danger', text: 'Excluir', 'aria-label': `Excluir ${game.title}`, onclick: () => { ask(); cell.querySelector('button').focus(); } }));
  async function remove(event) {
    await busy(event.target, 'Excluindo…', async () => {
      try {
        await authed('DELETE', `/jogos/${encodeURIComponent(game.id)}`);
        announce(`“${game.title}” foi excluído do catálogo.`, 'ok');
        onDeleted();
      } catch (error) {
        replace(cell, errorBox(error));
      }
    });
  }
  reset();
  return cell;
}

const listHash = (state) => withQuery('#/admin/jogos', {
  titulo: state.title.trim(), pagina: state.page > 1 ? state.page : '',
});

function gamesTable(data, again) {
  const rows = data.items.map((game) => h('tr', {},
    h('td', { text: game.title }), h('td', { text: formatPrice(game.price_cents, game.currency) }),
    h('td', { text: (game.genres || []).map(genreLabel).join(', ') }), h('td', { text: game.version }),
    h('td', {}, deleteCell(game, again))));
  return h('table', { class: 'table' },
    h('caption', { class: 'sr-only', text: 'Jogos do catálogo' }),
    h('thead', {}, h('tr', {}, ['Título', 'Preço', 'Gêneros', 'Versão', 'Ações'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows));
}

function listSummary(state, total) {
  const count = total === 1 ? '1 jogo' : `${total.toLocaleString('pt-BR')} jogos`;
  const title = state.title.trim();
  if (!title) return ` ${count} no catálogo.`;
  return total ? ` ${count} com “${title}” no título.` : ` Nenhum jogo com “${title}” no título.`;
}

/** The list under the search box: fetched again (the previous request abandoned) as the
 * admin types, redrawn in place so the box keeps its focus. */
class GameList {
  constructor(state) {
    this.state = state;
    this.controller = null;
    this.timer = null;
    this.summary = h('span', { id: 'total-jogos', role: 'status', 'aria-live': 'polite' });
    this.slot = h('div', { id: 'lista-jogos' });
  }

  typed(value) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      Object.assign(this.state, { title: value, page: 1 });
      remember(listHash(this.state));
      this.load();
    }, DEBOUNCE_MS);
  }

  async load() {
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const wanted = { ...this.state };
    const path = withQuery('/jogos', { page: wanted.page, size: PAGE_SIZE, title: wanted.title.trim() });
    try {
      const data = await get(path, { signal: controller.signal });
      if (controller === this.controller) this.draw(wanted, data);
    } catch (error) {
      if (error.name === 'AbortError' || controller !== this.controller) return;
      replace(this.slot, errorBox(error));
    }
  }

  draw(wanted, data) {
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    const again = () => go(listHash(wanted));
    const at = (page) => listHash({ ...wanted, page });
    this.summary.textContent = listSummary(wanted, data.total);
    replace(this.slot, data.items.length ? gamesTable(data, again) : null,
      h('nav', { class: 'pager', 'aria-label': 'Paginação' },
        wanted.page > 1 ? h('a', { href: at(wanted.page - 1), text: '← Anterior' }) : null,
        h('span', { text: `Página ${wanted.page} de ${pages}` }),
        wanted.page < pages ? h('a', { href: at(wanted.page + 1), text: 'Próxima →' }) : null));
  }
}

export async function adminGamesView({ query }) {
  const page = Math.max(1, Number.parseInt(query.get('pagina') || '1', 10) || 1);
  const list = new GameList({ title: query.get('titulo') || '', page });
  const search = field({ id: 'busca-jogos', label: 'Buscar por título', type: 'search', value: list.state.title,
    attrs: { autocomplete: 'off', spellcheck: 'false', placeholder: 'Ex.: witcher' } });
  search.querySelector('input').addEventListener('input', (event) => list.typed(event.target.value));
  await list.load();
  return h('section', {},
    h('h1', { text: 'Admin: jogos' }),
    h('p', {}, h('a', { href: '#/admin/jogos/novo', class: 'button primary', text: 'Novo jogo' }), list.summary),
    h('form', { class: 'search', role: 'search', onsubmit: (e) => e.preventDefault() }, search),
    list.slot);
}

function gameFields(game) {
  const g = game || {};
  return [
    field({ id: 'title', label: 'Título', value: g.title || '' }),
    field({ id: 'description', label: 'Descrição', type: 'textarea', value: g.description || '', attrs: { rows: 5 } }),
    field({ id: 'genres', label: 'Gêneros', value: (g.genres || []).join(', '), hint: 'Separados por vírgula, com os nomes usados na busca. Ex.: RPG, Action, Open World' }),
    field({ id: 'platforms', label: 'Plataformas', value: (g.platforms || []).join(', '), hint: 'Separadas por vírgula. Ex.: PC, PlayStation 5, Nintendo Switch' }),
    field({ id: 'price_cents', label: 'Preço (R$)', value: fromCents(g.price_cents), hint: 'Ex.: 79,90', attrs: { inputmode: 'decimal' } }),
    field({ id: 'release_date', label: 'Data de lançamento', type: 'date', value: g.release_date || '' }),
    field({ id: 'developer', label: 'Desenvolvedora', value: g.developer || '' }),
    field({ id: 'publisher', label: 'Editora', value: g.publisher || '' }),
    field({ id: 'tags', label: 'Etiquetas', value: (g.tags || []).join(', '), hint: 'Separadas por vírgula (opcional).' }),
  ];
}

/**
 * The price field as ``price_cents``: "79,90", "79.90", "R$ 79,90" → 7990 (see ``toCents``);
 * a leading minus is kept for the API to refuse with its own message; '' → null; NaN when it
 * is not a price at all.
 */
export function parsePrice(text) {
  const typed = String(text ?? '').trim();
  const negative = typed.startsWith('-');
  const cents = toCents(negative ? typed.slice(1) : typed);
  return negative && Number.isFinite(cents) ? -cents : cents;
}

const PRICE_HELP = { loc: ['body', 'price_cents'], code: 'price_unreadable', msg: 'Informe o preço em reais, como 79,90.' };

function bodyOf(form) {
  const v = (id) => form.querySelector(`#${id}`).value;
  return {
    title: v('title'), description: v('description'), genres: list(v('genres')),
    platforms: list(v('platforms')), price_cents: parsePrice(v('price_cents')),
    release_date: v('release_date') || null, developer: v('developer'), publisher: v('publisher'),
    tags: list(v('tags')),
  };
}

export async function gameFormView({ params }) {
  const id = params[0];
  const game = id ? await get(`/jogos/${encodeURIComponent(id)}`) : null;
  const message = h('div', { class: 'form-message' });
  const button = h('button', { type: 'submit', class: 'primary', text: game ? 'Salvar alterações' : 'Criar jogo' });
  const form = h('form', { class: 'panel', novalidate: true }, gameFields(game), message, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    message.replaceChildren();
    if (Number.isNaN(parsePrice(form.querySelector('#price_cents').value))) {
      showFieldErrors(form, [PRICE_HELP]);  // not worth a round trip: the API wants cents
      return;
    }
    await busy(button, 'Salvando…', async () => {
      try {
        const saved = game
          ? await authed('PUT', `/jogos/${encodeURIComponent(game.id)}`, { body: bodyOf(form), headers: { 'If-Match': `"${game.version}"` } })
          : await authed('POST', '/jogos', { body: bodyOf(form) });
        announce(`“${saved.title}” foi salvo.`, 'ok');
        go('#/admin/jogos');
      } catch (error) {
        formProblem(form, message, error.status === 409 ? { ...error, message: error.message, errors: [{ loc: ['body', 'title'], msg: error.message }] } : error);
      }
    });
  });
  return h('section', {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/admin/jogos', text: '← Jogos' })),
    h('h1', { text: game ? `Editar: ${game.title}` : 'Novo jogo' }), form,
    game ? coverWidget(game, (saved) => { game.version = saved.version; }) : null);
}
