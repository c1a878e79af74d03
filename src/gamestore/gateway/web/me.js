// The player's library and notifications.

import { authed, itemsOf } from './api.js';
import { coverImage } from './cover.js';
import { dateTime, h } from './dom.js';

export async function libraryView() {
  const items = itemsOf(await authed('GET', '/biblioteca'));
  const body = items.length
    ? h('ul', { class: 'grid library' }, items.map((item, i) => h('li', { class: 'card' },
      coverImage(item.cover, item.title, { eager: i < 4 }),
      h('a', { href: `#/jogos/${encodeURIComponent(item.game_id)}`, class: 'card-link' },
        h('span', { class: 'card-title', text: item.title })),
      h('p', { class: 'meta', text: `Adquirido em ${dateTime(item.acquired_at)}` }))))
    : h('p', { class: 'muted' }, 'Sua biblioteca está vazia. ', h('a', { href: '#/jogos', text: 'Encontre um jogo' }));
  return h('section', {}, h('h1', { text: 'Sua biblioteca' }), body);
}

export async function notificationsView() {
  const items = itemsOf(await authed('GET', '/notificacoes'));
  const body = items.length
    ? h('ul', { class: 'plain notifications' }, items.map((item) => h('li', { class: 'panel' },
      h('p', { text: item.message }),
      h('p', { class: 'muted small' }, h('time', { datetime: item.created_at, text: dateTime(item.created_at) })))))
    : h('p', { class: 'muted', text: 'Nenhuma notificação por enquanto.' });
  return h('section', {}, h('h1', { text: 'Notificações' }), body);
}
