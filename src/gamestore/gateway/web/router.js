// Hash routing (#/jogos/…): no page path can collide with an API path. Each route names the
// module that draws it (loaded on first use, so the first page load stays small).

import { ApiError } from './http.js';
import { dismiss, h, messageOf, replace } from './dom.js';
import * as session from './session.js';

const PLAYER = 'player';
const ADMIN = 'admin';
const ROUTES = [
  [/^\/jogos$/, './catalog.js', 'catalogView'],
  [/^\/jogos\/([^/]+)$/, './game.js', 'gameView'],
  [/^\/entrar$/, './account.js', 'loginView'],
  [/^\/cadastro$/, './account.js', 'registerView'],
  [/^\/biblioteca$/, './me.js', 'libraryView', PLAYER],
  [/^\/notificacoes$/, './me.js', 'notificationsView', PLAYER],
  [/^\/pedidos$/, './orders.js', 'ordersView', PLAYER],
  [/^\/pedidos\/([^/]+)$/, './orders.js', 'orderView', PLAYER],
  [/^\/admin\/jogos$/, './admin_games.js', 'adminGamesView', ADMIN],
  [/^\/admin\/jogos\/novo$/, './admin_games.js', 'gameFormView', ADMIN],
  [/^\/admin\/jogos\/([^/]+)$/, './admin_games.js', 'gameFormView', ADMIN],
  [/^\/admin\/dlq$/, './admin_ops.js', 'dlqView', ADMIN],
  [/^\/admin\/eventos$/, './admin_ops.js', 'eventsView', ADMIN],
  [/^\/admin\/estado$/, './admin_status.js', 'statusView', ADMIN],
];

let ticket = 0;
let first = true;
let led = false;  // the coming hash change is the app's own (go), not the user's

/** The current location: {path, query} from "#/path?query". */
export function where() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(search) };
}

/** Goes to ``hash`` (re-drawing even when it is the current one). A toast announced just
 * before (“Você saiu da sua conta.”) stays: it is about this very move. */
export function go(hash) {
  if (location.hash === hash) {
    render();
  } else {
    led = true;
    location.hash = hash;
  }
}

/** A hash change: one the user made (a link, Back) leaves the old page's toast behind. */
function moved() {
  if (!led) dismiss();
  led = false;
  render();
}

/** Replaces the current history entry's hash without drawing again (search-as-you-type). */
export function remember(hash) {
  if (location.hash === hash) return;
  history.replaceState(null, '', hash);
  document.getElementById('conteudo').dataset.hash = hash;
}

export function loginHash() {
  return `#/entrar?volta=${encodeURIComponent(location.hash || '#/jogos')}`;
}

function find(path) {
  for (const [pattern, module, view, who] of ROUTES) {
    const found = pattern.exec(path);
    if (found) return { module, view, who, params: found.slice(1).map(decodeURIComponent) };
  }
  return null;
}

/** Draws the view for the current hash into <main>. */
export async function render() {
  const mine = ++ticket;
  const main = document.getElementById('conteudo');
  const { path, query } = where();
  if (path === '/') { location.replace('#/jogos'); return; }
  const route = find(path);
  main.setAttribute('aria-busy', 'true');
  try {
    const node = await draw(route, path, query);
    if (node === null || mine !== ticket) return;
    replace(main, node);
  } catch (error) {
    if (mine !== ticket) return;
    if (error instanceof ApiError && error.status === 401 && !session.user()) {
      location.replace(loginHash());
      return;
    }
    replace(main, errorPage(error));
  } finally {
    if (mine === ticket) settle(main);
  }
}

async function draw(route, path, query) {
  if (!route) throw new ApiError(404, 'Esta página não existe.');
  const who = session.user();
  if (route.who && !who) { location.replace(loginHash()); return null; }
  if (route.who === ADMIN && !who.admin) {
    throw new ApiError(403, 'Esta área é só para administradores.');
  }
  const module = await import(route.module);
  return module[route.view]({ params: route.params, query, path });
}

function settle(main) {
  main.removeAttribute('aria-busy');
  main.dataset.path = where().path;
  main.dataset.hash = location.hash;  // what was drawn: a same-path move is told apart
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · GameStore` : 'GameStore';
  if (!first && heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
  first = false;
  document.dispatchEvent(new CustomEvent('gs:page', { detail: { path: where().path } }));
}

function errorPage(error) {
  const titles = { 403: 'Acesso negado', 404: 'Não encontrado' };
  return h('section', { class: 'panel' },
    h('h1', { text: titles[error && error.status] || 'Algo deu errado' }),
    h('p', { class: 'error', role: 'alert', text: messageOf(error) }),
    error && error.requestId
      ? h('p', { class: 'muted small', text: `Código da requisição: ${error.requestId}` }) : null,
    h('p', {}, h('a', { href: '#/jogos', text: 'Voltar para o catálogo' })));
}

/** Starts drawing on every hash change, and draws the current one. */
export function start() {
  window.addEventListener('hashchange', moved);
  return render();
}
