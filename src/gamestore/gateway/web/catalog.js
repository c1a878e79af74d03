// The catalog: search as you type (debounced; the server is typo tolerant), genre and platform
// filters with facet counts, a price range, sorts, pages; the "Populares" and "Recomendados
// para você" rows above an unfiltered catalog.

import { authed, get, withQuery } from './api.js';
import { coverImage } from './cover.js';
import { errorBox, field, h, highlighted, replace, toCents } from './dom.js';
import { formatPrice, genreLabel, platformLabel } from './labels.js';
import { remember } from './router.js';
import * as session from './session.js';

const PAGE_SIZE = 12;
const WIDE = '(min-width: 37.5rem)';  // style.css draws phones below this width
const DEBOUNCE_MS = 120;
const SORTS = [
  ['relevance', 'Relevância'],
  ['popular', 'Mais vendidos'],
  ['price_asc', 'Menor preço'],
  ['price_desc', 'Maior preço'],
  ['release_desc', 'Lançamentos'],
];

const EAGER_CARDS = 4;  // the first row of results is above the fold: no lazy loading there

/** One game as a card linking to its page, its cover first (lazy unless ``eager``). */
export function gameCard(game, { highlight = true, eager = false } = {}) {
  const title = highlight ? highlighted(game.highlight, game.title) : [game.title];
  const labels = [...(game.genres || []).map(genreLabel), ...(game.platforms || []).map(platformLabel)].join(' · ');
  return h('li', { class: 'card' },
    coverImage(game.cover, game.title, { eager }),
    h('a', { href: `#/jogos/${encodeURIComponent(game.id)}`, class: 'card-link' },
      h('span', { class: 'card-title' }, title)),
    h('p', { class: 'meta', text: labels }),
    h('p', { class: 'price', text: formatPrice(game.price_cents, game.currency) }));
}

function stateFrom(query) {
  const page = Number.parseInt(query.get('pagina') || '1', 10);
  return {
    q: query.get('q') || '',
    genre: query.get('genero') || '',
    platform: query.get('plataforma') || '',
    min: query.get('min') || '',
    max: query.get('max') || '',
    sort: query.get('ordem') || 'relevance',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

function hashOf(state) {
  return withQuery('#/jogos', {
    q: state.q, genero: state.genre, plataforma: state.platform, min: state.min,
    max: state.max, ordem: state.sort === 'relevance' ? '' : state.sort,
    pagina: state.page > 1 ? state.page : '',
  });
}

function facetSelect(id, label) {
  return field({ id, label, control: h('select', { id, name: id }, h('option', { value: '', text: 'Todos' })) });
}

/** Options "Ação (12)" for each facet value (its id as the value), the chosen one kept even
 * when it counts 0. */
function fillFacet(select, counts, chosen, label) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (chosen && !entries.some(([name]) => name === chosen)) entries.unshift([chosen, 0]);
  const wanted = ['', ...entries.map(([name, count]) => `${name}\u0000${count}`)].join('|');
  if (select.dataset.options === wanted) return;
  select.dataset.options = wanted;
  replace(select, h('option', { value: '', text: 'Todos' }),
    entries.map(([name, count]) => h('option', { value: name, text: `${label(name)} (${count})` })));
  select.value = chosen;
}

function searchForm(state) {
  const sort = h('select', { id: 'ordem', name: 'ordem' },
    SORTS.map(([value, text]) => h('option', { value, text })));
  sort.value = state.sort;
  return h('form', { class: 'search', role: 'search', onsubmit: (e) => e.preventDefault() },
    field({ id: 'busca', label: 'Buscar jogos', type: 'search', value: state.q,
      attrs: { autocomplete: 'off', spellcheck: 'false', placeholder: 'Ex.: witcher, hades, pokémon' } }),
    filtersBox(state, h('div', { class: 'filters' },
      facetSelect('genero', 'Gênero'),
      facetSelect('plataforma', 'Plataforma'),
      field({ id: 'min', label: 'Preço mínimo (R$)', value: state.min, attrs: { inputmode: 'decimal', size: 8 } }),
      field({ id: 'max', label: 'Preço máximo (R$)', value: state.max, attrs: { inputmode: 'decimal', size: 8 } }),
      field({ id: 'ordem', label: 'Ordenar por', control: sort }))));
}

/** The filters behind a "Filtros" disclosure: open on a wide screen, closed on a phone (where
 * they would fill the first screen) unless one of them is in use. */
function filtersBox(state, filters) {
  const inUse = Boolean(state.genre || state.platform || state.min || state.max || state.sort !== 'relevance');
  return h('details', { class: 'filters-box', open: inUse || window.matchMedia(WIDE).matches },
    h('summary', { text: 'Filtros' }), filters);
}

function row(title, id, load) {
  const list = h('ul', { class: 'row', 'aria-labelledby': id });
  const section = h('section', { class: 'shelf' }, h('h2', { id, text: title }), list);
  load().then((items) => {
    if (!items.length) replace(list, h('li', { class: 'muted', text: 'Ainda não há jogos nesta lista.' }));
    else replace(list, items.map((game) => gameCard(game, { highlight: false })));
  }).catch((error) => replace(list, h('li', {}, errorBox(error))));
  return section;
}

function shelves() {
  const rows = [row('Populares', 'populares', async () => (await get('/jogos/populares?limit=6')).items)];
  if (session.user()) {
    rows.push(row('Recomendados para você', 'recomendados',
      async () => (await authed('GET', '/jogos/recomendados?limit=6')).items));
  }
  return h('div', { class: 'shelves' }, rows);
}

function pager(state, total, onPage) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages <= 1) return [];
  return [
    h('button', { type: 'button', disabled: state.page <= 1, onclick: () => onPage(state.page - 1), text: '← Anterior' }),
    h('span', { text: `Página ${state.page} de ${pages}` }),
    h('button', { type: 'button', disabled: state.page >= pages, onclick: () => onPage(state.page + 1), text: 'Próxima →' }),
  ];
}

function summary(state, total) {
  const count = total === 1 ? '1 jogo encontrado' : `${total.toLocaleString('pt-BR')} jogos encontrados`;
  if (total === 0) return state.q ? `Nenhum jogo encontrado para “${state.q}”.` : 'Nenhum jogo encontrado.';
  return state.q ? `${count} para “${state.q}”.` : `${count}.`;
}

function searchPath(state) {
  const min = toCents(state.min);
  const max = toCents(state.max);
  return withQuery('/jogos/busca', {
    q: state.q.trim(), genre: state.genre, platform: state.platform,
    min_price: Number.isFinite(min) ? min : '', max_price: Number.isFinite(max) ? max : '',
    sort: state.sort, page: state.page, size: PAGE_SIZE,
  });
}

/** The catalog page; it keeps itself up to date as the user types, without redrawing. */
export async function catalogView({ query }) {
  const state = stateFrom(query);
  const form = searchForm(state);
  const status = h('p', { id: 'resultado', class: 'result-status', role: 'status', 'aria-live': 'polite' });
  const results = h('ul', { id: 'resultados', class: 'grid', 'aria-labelledby': 'titulo-catalogo' });
  const pages = h('nav', { class: 'pager', 'aria-label': 'Paginação' });
  const shelfSlot = h('div');
  const view = h('section', { class: 'catalog' },
    h('h1', { id: 'titulo-catalogo', text: 'Catálogo' }), form, shelfSlot, status, results, pages);
  const search = new Search(state, { form, status, results, pages, shelfSlot });
  await search.run();
  search.listen();
  return view;
}

class Search {
  constructor(state, parts) {
    Object.assign(this, parts);
    this.state = state;
    this.timer = null;
    this.controller = null;
    this.shown = false;
  }

  listen() {
    const form = this.form;
    const later = () => { clearTimeout(this.timer); this.timer = setTimeout(() => this.update(), DEBOUNCE_MS); };
    form.querySelector('#busca').addEventListener('input', later);
    form.querySelector('#min').addEventListener('input', later);
    form.querySelector('#max').addEventListener('input', later);
    for (const id of ['genero', 'plataforma', 'ordem']) {
      form.querySelector(`#${id}`).addEventListener('change', () => this.update());
    }
  }

  update(page = 1) {
    clearTimeout(this.timer);
    const f = this.form;
    Object.assign(this.state, {
      q: f.querySelector('#busca').value, genre: f.querySelector('#genero').value,
      platform: f.querySelector('#plataforma').value, min: f.querySelector('#min').value,
      max: f.querySelector('#max').value, sort: f.querySelector('#ordem').value, page,
    });
    remember(hashOf(this.state));
    return this.run();
  }

  filtered() {
    const s = this.state;
    return Boolean(s.q.trim() || s.genre || s.platform || s.min || s.max || s.page > 1);
  }

  priceErrors() {
    let ok = true;
    for (const id of ['min', 'max']) {
      const bad = Number.isNaN(toCents(this.state[id]));
      this.form.querySelector(`#${id}-erro`).textContent = bad ? 'Use um valor como 79,90.' : '';
      ok = ok && !bad;
    }
    return ok;
  }

  async run() {
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const wanted = { ...this.state };
    if (!this.filtered() !== this.shown) this.toggleShelves();
    this.priceErrors();
    try {
      const page = await get(searchPath(wanted), { signal: controller.signal });
      if (controller !== this.controller) return;
      this.draw(wanted, page);
    } catch (error) {
      if (error.name === 'AbortError' || controller !== this.controller) return;
      replace(this.status, errorBox(error));
      this.results.replaceChildren();
      this.pages.replaceChildren();
    }
  }

  toggleShelves() {
    this.shown = !this.filtered();
    replace(this.shelfSlot, this.shown ? shelves() : null);
  }

  draw(wanted, page) {
    fillFacet(this.form.querySelector('#genero'), page.facets && page.facets.genres, wanted.genre, genreLabel);
    fillFacet(this.form.querySelector('#plataforma'), page.facets && page.facets.platforms, wanted.platform, platformLabel);
    replace(this.status, summary(wanted, page.total));
    replace(this.results, page.items.map((game, i) => gameCard(game, { eager: i < EAGER_CARDS })));
    replace(this.pages, pager(wanted, page.total, (n) => this.turn(n)));
    this.results.dataset.q = wanted.q;
    this.results.dataset.hash = hashOf(wanted);
    requestAnimationFrame(() => {
      document.dispatchEvent(new CustomEvent('gs:results', { detail: { q: wanted.q, total: page.total } }));
    });
  }

  async turn(page) {
    await this.update(page);
    this.status.scrollIntoView({ block: 'start' });
    const link = this.results.querySelector('a');
    if (link) link.focus({ preventScroll: true });
  }
}

