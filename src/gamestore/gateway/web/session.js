// The signed-in session: the access token lives in memory only, the refresh token in this
// tab's sessionStorage (gone when the tab closes). Tokens are refreshed silently shortly before
// the access token expires, or after a 401; only one refresh is ever in flight, because the
// users service rotates refresh tokens and a reused one revokes the whole session.

import { ApiError, send } from './http.js';

const STORE = 'gamestore.refresh';
let access = null;
let claims = null;
let expiresAt = 0;
let margin = 0;
let refreshing = null;
const listeners = new Set();

function decode(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const text = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '='));
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function adopt(pair) {
  const payload = decode(pair.access_token);
  if (!payload) throw new ApiError(0, 'A resposta de login veio num formato inesperado.');
  access = pair.access_token;
  claims = payload;
  const lifetime = Number(pair.expires_in) || (payload.exp - payload.iat) || 60;
  expiresAt = Date.now() + lifetime * 1000;
  margin = Math.min(30_000, lifetime * 200);  // refresh in the last 20 % of the lifetime
  sessionStorage.setItem(STORE, pair.refresh_token);
  notify();
}

function forget() {
  access = null;
  claims = null;
  expiresAt = 0;
  sessionStorage.removeItem(STORE);
  notify();
}

function notify() {
  for (const listener of listeners) listener(user());
}

/** Calls ``listener(user)`` whenever someone signs in or out. */
export function onChange(listener) {
  listeners.add(listener);
}

/** The signed-in user ({id, role, admin}) from the token's claims, or null. */
export function user() {
  return claims ? { id: claims.sub, role: claims.role, admin: claims.role === 'admin' } : null;
}

/** At start-up: resume a session this tab already had (one silent refresh). */
export async function resume() {
  if (!sessionStorage.getItem(STORE)) return;
  try {
    await refresh();
  } catch {
    forget();
  }
}

export async function login(email, password) {
  adopt(await send('POST', '/login/auth', { body: { email, password } }));
}

export async function logout() {
  const token = sessionStorage.getItem(STORE);
  forget();
  if (token) {
    try { await send('POST', '/login/logout', { body: { refresh_token: token } }); } catch { /* gone anyway */ }
  }
}

/** A new token pair; concurrent callers share the one refresh in flight. */
export function refresh() {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function doRefresh() {
  const token = sessionStorage.getItem(STORE);
  if (!token) throw expired();
  try {
    adopt(await send('POST', '/login/refresh', { body: { refresh_token: token } }));
  } catch (error) {
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
      forget();
      throw expired();
    }
    throw error;  // the server is unreachable: keep the session, the caller shows why
  }
}

function expired() {
  return new ApiError(401, 'Sua sessão expirou. Entre novamente para continuar.');
}

/** A valid access token (refreshed first when it is about to expire), or null if signed out. */
export async function token() {
  if (!access && !sessionStorage.getItem(STORE)) return null;
  if (!access || Date.now() >= expiresAt - margin) await refresh();
  return access;
}

/** After a 401 with ``used``: refresh unless someone already replaced that token. */
export async function renewAfter(used) {
  if (access === used || !access) await refresh();
  return access;
}
