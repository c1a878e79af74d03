// Start-up: resume the tab's session, draw the menu, start the router.

import { announce, dismiss, h, labelCells, messageOf, replace } from './dom.js';
import { go, start, where } from './router.js';
import * as session from './session.js';

const LINKS = [
  ['#/jogos', 'Jogos', null],
  ['#/biblioteca', 'Biblioteca', 'player'],
  ['#/pedidos', 'Pedidos', 'player'],
  ['#/notificacoes', 'Notificações', 'player'],
  ['#/admin/jogos', 'Admin: jogos', 'admin'],
  ['#/admin/dlq', 'Admin: fila de erros', 'admin'],
  ['#/admin/eventos', 'Admin: eventos', 'admin'],
  ['#/admin/estado', 'Admin: estado', 'admin'],
];

function drawMenu() {
  const who = session.user();
  const visible = LINKS.filter(([, , need]) => !need || (who && (need === 'player' || who.admin)));
  const items = visible.map(([href, label]) => h('li', {}, h('a', { href, text: label })));
  if (who) {
    items.push(h('li', {}, h('button', { type: 'button', class: 'link', onclick: signOut, text: 'Sair' })));
  } else {
    items.push(h('li', {}, h('a', { href: '#/entrar', text: 'Entrar' })));
    items.push(h('li', {}, h('a', { href: '#/cadastro', text: 'Criar conta' })));
  }
  replace(document.getElementById('menu'), h('ul', {}, items));
  markCurrent();
}

function markCurrent() {
  const path = where().path;
  for (const link of document.querySelectorAll('#menu a')) {
    const target = link.getAttribute('href').slice(1);
    const current = path === target || (target !== '/jogos' && path.startsWith(`${target}/`))
      || (target === '/jogos' && /^\/jogos(\/|$)/.test(path));
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function signOut() {
  const done = session.logout();  // forgets the tokens at once; tells the server meanwhile
  announce('Você saiu da sua conta.');
  go('#/jogos');
  return done;
}

document.getElementById('pular').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('conteudo').focus();
});
window.addEventListener('unhandledrejection', (event) => {
  announce(messageOf(event.reason), 'error');
});
document.getElementById('aviso').addEventListener('click', dismiss);
document.addEventListener('gs:page', markCurrent);
// tables drawn now or later (a list refreshed in place) get their cells labelled for phones
const main = document.getElementById('conteudo');
new MutationObserver(() => labelCells(main)).observe(main, { childList: true, subtree: true });
session.onChange(drawMenu);

await session.resume();
drawMenu();
await start();
