// The gateway's API as the views use it: public calls, and signed-in calls that refresh the
// session silently and retry once after a 401.

import { ApiError, itemsOf, send } from './http.js';
import * as session from './session.js';

export { ApiError, itemsOf };

/** A public call (no token). */
export function get(path, { signal } = {}) {
  return send('GET', path, { signal });
}

/** A call as the signed-in user; rejects with a 401 ApiError when nobody is signed in. */
export async function authed(method, path, { body, headers, signal } = {}) {
  const token = await session.token();
  if (!token) throw new ApiError(401, 'Entre na sua conta para continuar.');
  try {
    return await send(method, path, { body, headers, signal, token });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    const fresh = await session.renewAfter(token);
    return send(method, path, { body, headers, signal, token: fresh });
  }
}

/** Builds ``path?query`` from an object, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

const titles = new Map();

/** A game's title for lists that only carry its id (cached; a delisted game says so). */
export function gameTitle(id) {
  if (!titles.has(id)) {
    const lookup = get(`/jogos/${encodeURIComponent(id)}`)
      .then((game) => game.title)
      .catch((error) => (error.status === 404 ? 'Jogo fora do catálogo' : 'Jogo'));
    titles.set(id, lookup);
  }
  return titles.get(id);
}
