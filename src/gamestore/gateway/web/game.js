// A game's page: its details and the purchase panel (test card → POST /jogos/compra with an
// Idempotency-Key → the order's live status right here).

import { ApiError, authed, get } from './api.js';
import { busy, date, errorBox, h, newKey, replace } from './dom.js';
import { formatPrice, genreLabel, platformLabel, tagLabel } from './labels.js';
import { coverImage, PAGE_SIZES } from './cover.js';
import { cardPicker, chosenCard, orderTracker } from './payment.js';
import { loginHash } from './router.js';
import * as session from './session.js';

function facts(game) {
  const rows = [
    ['Gêneros', (game.genres || []).map(genreLabel).join(', ')],
    ['Plataformas', (game.platforms || []).map(platformLabel).join(', ')],
    ['Lançamento', date(game.release_date)],
    ['Desenvolvedora', game.developer],
    ['Editora', game.publisher],
    ['Etiquetas', (game.tags || []).map(tagLabel).join(', ') || '—'],
  ];
  return h('dl', { class: 'facts' }, rows.map(([term, value]) => [h('dt', { text: term }), h('dd', { text: value })]));
}

function description(text) {
  const paragraphs = String(text || '').split(/\n+/).filter((p) => p.trim());
  return paragraphs.length
    ? paragraphs.map((p) => h('p', { text: p }))
    : h('p', { class: 'muted', text: 'Sem descrição.' });
}

async function owns(gameId) {
  const library = await authed('GET', '/biblioteca');
  return (library.items || []).some((item) => item.game_id === gameId);
}

function buyForm(game, panel) {
  const button = h('button', { type: 'submit', id: 'comprar', class: 'primary', text: game.price_cents === 0 ? 'Obter grátis' : `Comprar por ${formatPrice(game.price_cents, game.currency)}` });
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'buy', 'aria-label': 'Comprar' }, cardPicker('cartao'), button, message);
  let key = newKey();  // one key per purchase attempt: a resend after a network error replays
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { game_id: game.id, payment_method: chosenCard(form, 'cartao') };
    await busy(button, 'Comprando…', async () => {
      try {
        const order = await authed('POST', '/jogos/compra', { body, headers: { 'Idempotency-Key': key } });
        replace(panel, h('h2', { text: 'Sua compra' }),
          h('p', {}, 'Pedido ', h('a', { href: `#/pedidos/${encodeURIComponent(order.order_id)}`, text: order.order_id.slice(0, 8) }), ' criado.'),
          orderTracker(order.order_id, order.payment_id));
      } catch (error) {
        if (error instanceof ApiError && error.status) key = newKey();
        const open = error.problem && typeof error.problem.order_id === 'string' ? error.problem.order_id : null;
        replace(message, errorBox(error), open
          ? h('p', {}, h('a', { href: `#/pedidos/${encodeURIComponent(open)}`, text: 'Ver o pedido em andamento' })) : null);
      }
    });
  });
  return form;
}

async function purchasePanel(game) {
  const panel = h('section', { class: 'panel purchase', 'aria-labelledby': 'titulo-compra' });
  if (!session.user()) {
    return replace(panel, h('h2', { id: 'titulo-compra', text: 'Comprar' }),
      h('p', {}, h('a', { href: loginHash(), text: 'Entre na sua conta' }), ' para comprar este jogo.'));
  }
  let owned = false;
  try {
    owned = await owns(game.id);
  } catch { /* the library is unavailable: let the purchase API decide */ }
  if (owned) {
    return replace(panel, h('h2', { id: 'titulo-compra', text: 'Na sua biblioteca' }),
      h('p', {}, 'Você já tem este jogo. ', h('a', { href: '#/biblioteca', text: 'Ver biblioteca' })));
  }
  return replace(panel, h('h2', { id: 'titulo-compra', text: 'Comprar' }), buyForm(game, panel));
}

export async function gameView({ params }) {
  const game = await get(`/jogos/${encodeURIComponent(params[0])}`);
  return h('article', { class: 'game' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/jogos', text: '← Catálogo' })),
    h('h1', { id: 'titulo-jogo', text: game.title }),
    coverImage(game.cover, game.title, { sizes: PAGE_SIZES, eager: true }),
    h('p', { class: 'price big', text: formatPrice(game.price_cents, game.currency) }),
    h('div', { class: 'game-body' },
      h('div', { class: 'game-info' }, description(game.description), facts(game)),
      await purchasePanel(game)));
}
