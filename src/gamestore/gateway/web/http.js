// One HTTP call to the gateway (same origin) and its errors as human messages.

/**
 * An API failure: ``message`` is the problem+json detail, in Portuguese (or a fallback);
 * ``code`` is the problem's stable code (``email_taken``) to decide on; ``errors`` are the
 * fields' ``{loc, code, msg}``.
 */
export class ApiError extends Error {
  constructor(status, message, { code = '', errors = [], requestId = null, title = '', problem = {} } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.requestId = requestId;
    this.title = title;
    this.problem = problem;  // the whole problem document (e.g. the order_id of a 409)
  }
}

const FALLBACK = {
  0: 'Não foi possível falar com o servidor. Verifique sua conexão e tente novamente.',
  400: 'O pedido não pôde ser entendido.',
  401: 'Entre na sua conta para continuar.',
  403: 'Você não tem permissão para isso.',
  404: 'Não encontrado.',
  409: 'Conflito com o estado atual.',
  413: 'Os dados enviados são grandes demais.',
  422: 'Os dados enviados não são válidos.',
  429: 'Muitas tentativas; aguarde um pouco e tente de novo.',
  502: 'Um serviço da loja não respondeu. Tente novamente em instantes.',
  503: 'Este serviço da loja está indisponível no momento. Tente novamente em instantes.',
  504: 'Um serviço da loja demorou demais para responder.',
};

function fallback(status) {
  return FALLBACK[status] || (status >= 500
    ? 'Algo deu errado do nosso lado. Tente novamente em instantes.'
    : `O pedido falhou (código ${status}).`);
}

/**
 * Sends one request; resolves to the JSON body (null for an empty one), rejects with ApiError.
 * ``token`` adds the bearer header; ``headers`` adds others (Idempotency-Key, If-Match).
 * A ``body`` that is a Blob (a File) is sent as it is, with its own type; any other as JSON.
 */
export async function send(method, path, { body, token, headers = {}, signal } = {}) {
  const head = { Accept: 'application/json, application/problem+json', 'Accept-Language': 'pt-BR', ...headers };
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;  // a file, sent as it is
  if (body !== undefined) head['Content-Type'] = raw ? (body.type || 'application/octet-stream') : 'application/json';
  if (token) head.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method, headers: head, signal, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined || raw ? body : JSON.stringify(body),
    });
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new ApiError(0, fallback(0));
  }
  return read(response);
}

async function read(response) {
  const requestId = response.headers.get('X-Request-ID');
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  if (response.status !== 204 && type.includes('json')) {
    try { data = await response.json(); } catch { data = null; }
  }
  if (response.ok) return data;
  const problem = data && typeof data === 'object' ? data : {};
  const detail = typeof problem.detail === 'string' && problem.detail ? problem.detail : null;
  throw new ApiError(response.status, detail || fallback(response.status), {
    code: typeof problem.code === 'string' ? problem.code : '',
    errors: Array.isArray(problem.errors) ? problem.errors : [],
    requestId,
    title: typeof problem.title === 'string' ? problem.title : '',
    problem,
  });
}

/** The items of a list answer, whatever its shape ({items}, {events}, or a bare array). */
export function itemsOf(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.items)) return body.items;
  if (body && Array.isArray(body.events)) return body.events;
  return [];
}
