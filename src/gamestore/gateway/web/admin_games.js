// Admin: the catalog's games, created, edited (If-Match on the version read) and deleted, with
// the API's own validation messages beside each field.

import { authed, get, withQuery } from './api.js';
import { announce, busy, clearFieldErrors, errorBox, field, formProblem, fromCents, h, price, replace, showFieldErrors, toCents } from './dom.js';
import { go } from './router.js';

const PAGE_SIZE = 20;
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

export async function adminGamesView({ query }) {
  const page = Math.max(1, Number.parseInt(query.get('pagina') || '1', 10) || 1);
  const data = await get(withQuery('/jogos', { page, size: PAGE_SIZE }));
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  const again = () => go(`#/admin/jogos?pagina=${page}`);
  const rows = data.items.map((game) => h('tr', {},
    h('td', { text: game.title }), h('td', { text: price(game.price_cents) }),
    h('td', { text: (game.genres || []).join(', ') }), h('td', { text: game.version }),
    h('td', {}, deleteCell(game, again))));
  return h('section', {},
    h('h1', { text: 'Admin: jogos' }),
    h('p', {}, h('a', { href: '#/admin/jogos/novo', class: 'button primary', text: 'Novo jogo' }),
      ` ${data.total} jogos no catálogo.`),
    h('table', { class: 'table' },
      h('caption', { class: 'sr-only', text: 'Jogos do catálogo' }),
      h('thead', {}, h('tr', {}, ['Título', 'Preço', 'Gêneros', 'Versão', 'Ações'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows)),
    h('nav', { class: 'pager', 'aria-label': 'Paginação' },
      page > 1 ? h('a', { href: `#/admin/jogos?pagina=${page - 1}`, text: '← Anterior' }) : null,
      h('span', { text: `Página ${page} de ${pages}` }),
      page < pages ? h('a', { href: `#/admin/jogos?pagina=${page + 1}`, text: 'Próxima →' }) : null));
}

function gameFields(game) {
  const g = game || {};
  return [
    field({ id: 'title', label: 'Título', value: g.title || '' }),
    field({ id: 'description', label: 'Descrição', type: 'textarea', value: g.description || '', attrs: { rows: 5 } }),
    field({ id: 'genres', label: 'Gêneros', value: (g.genres || []).join(', '), hint: 'Separados por vírgula. Ex.: RPG, Ação' }),
    field({ id: 'platforms', label: 'Plataformas', value: (g.platforms || []).join(', '), hint: 'Separadas por vírgula. Ex.: PC, PS5' }),
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
    h('h1', { text: game ? `Editar: ${game.title}` : 'Novo jogo' }), form);
}
