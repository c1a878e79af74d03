// The player's orders, and one order with its live status and every payment's history.

import { authed, gameTitle, itemsOf, withQuery } from './api.js';
import { dateTime, errorBox, h, replace } from './dom.js';
import { formatPrice } from './labels.js';
import { historyList, orderStatusText, orderTracker, paymentStatusText } from './payment.js';

function titleCell(order) {
  const cell = h('td', { text: order.game_title || '…' });
  if (!order.game_title) gameTitle(order.game_id).then((title) => { cell.textContent = title; });
  return cell;
}

export async function ordersView() {
  const orders = itemsOf(await authed('GET', withQuery('/pedidos', { page: 1, size: 100 })));
  const body = orders.length
    ? h('table', { class: 'table' },
      h('caption', { class: 'sr-only', text: 'Seus pedidos' }),
      h('thead', {}, h('tr', {}, ['Data', 'Jogo', 'Valor', 'Situação'].map((t) => h('th', { scope: 'col', text: t })),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'Detalhes' })))),
      h('tbody', {}, orders.map((order) => h('tr', {},
        h('td', { text: dateTime(order.created_at) }),
        titleCell(order),
        h('td', { text: formatPrice(order.amount_cents, order.currency) }),
        h('td', { 'data-status': order.status, text: orderStatusText(order.status) }),
        h('td', {}, h('a', { href: `#/pedidos/${encodeURIComponent(order.id)}`, text: 'Detalhes', 'aria-label': `Detalhes do pedido de ${dateTime(order.created_at)}` }))))))
    : h('p', { class: 'muted' }, 'Você ainda não fez pedidos. ', h('a', { href: '#/jogos', text: 'Ver o catálogo' }));
  return h('section', {}, h('h1', { text: 'Seus pedidos' }), body);
}

function paymentCard(payment) {
  return h('li', { class: 'panel' },
    h('h3', { text: `Pagamento ${String(payment.id).slice(0, 8)} — ${paymentStatusText(payment)}` }),
    h('p', { class: 'muted small', text: `${formatPrice(payment.amount_cents, payment.currency)} · tentativas: ${payment.attempts ?? 0} · criado em ${dateTime(payment.created_at)}` }),
    historyList(payment));
}

async function payments(orderId) {
  const list = h('ul', { class: 'plain' }, h('li', { class: 'muted', text: 'Carregando pagamentos…' }));
  authed('GET', withQuery('/pagamento', { order_id: orderId }))
    .then((body) => {
      const items = itemsOf(body);
      replace(list, items.length ? items.map(paymentCard) : h('li', { class: 'muted', text: 'Nenhum pagamento registrado ainda.' }));
    })
    .catch((error) => replace(list, h('li', {}, errorBox(error))));
  return list;
}

export async function orderView({ params }) {
  const order = await authed('GET', `/pedidos/${encodeURIComponent(params[0])}`);
  const title = h('span', { text: order.game_title || 'Pedido' });
  if (!order.game_title) gameTitle(order.game_id).then((t) => { title.textContent = t; });
  return h('section', {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/pedidos', text: '← Pedidos' })),
    h('h1', {}, 'Pedido: ', title),
    h('p', { class: 'muted', text: `${formatPrice(order.amount_cents, order.currency)} · feito em ${dateTime(order.created_at)} · nº ${order.id}` }),
    h('p', {}, h('a', { href: `#/jogos/${encodeURIComponent(order.game_id)}`, text: 'Página do jogo' })),
    orderTracker(order.id),
    h('h2', { text: 'Pagamentos deste pedido' }),
    await payments(order.id));
}
