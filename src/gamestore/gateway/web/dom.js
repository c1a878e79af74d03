// Building the page from data without ever parsing data as HTML: every text goes through
// textContent, every attribute through setAttribute; no string is ever parsed as markup.

/** An element: h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'value') {
      el.value = String(value);
    } else if (key === 'checked') {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends strings (as text), nodes and nested arrays; skips null/undefined/false. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces every child of ``el``. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const day = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'medium', timeZone: 'UTC' });
const moment = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium' });

export function date(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? day.format(d) : '—';
}

export function dateTime(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? moment.format(d) : '—';
}

/**
 * A price in reais as people type it, in cents: "79,90", "79.90", "R$ 79,90", "1.234,56",
 * "1,234.56" → 7990, 7990, 7990, 123456, 123456; '' → null; anything else → NaN. With both
 * separators the last one is the decimal one; a lone "." before three digits groups thousands.
 */
export function toCents(text) {
  const clean = String(text ?? '').replace(/[\s\u00a0]/g, '').replace(/^R\$/i, '');
  if (clean === '') return null;
  const comma = clean.lastIndexOf(',');
  const dot = clean.lastIndexOf('.');
  let normal = clean;
  if (comma >= 0 && dot >= 0) {
    normal = comma > dot ? clean.replace(/\./g, '').replace(',', '.') : clean.replace(/,/g, '');
  } else if (comma >= 0) {
    normal = clean.replace(',', '.');
  } else if (/^\d{1,3}(\.\d{3})+$/.test(clean)) {
    normal = clean.replace(/\./g, '');
  }
  if (!/^\d+(\.\d{1,2})?$/.test(normal)) return NaN;
  return Math.round(Number(normal) * 100);
}

export function fromCents(cents) {
  return Number.isFinite(cents) ? (cents / 100).toFixed(2).replace('.', ',') : '';
}

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };

/** The search highlight (HTML-escaped title, matches in <em>) as text nodes and <mark>s. */
export function highlighted(highlight, title) {
  if (typeof highlight !== 'string' || !highlight.includes('<em>')) return [title];
  const decode = (s) => s.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (m) => ENTITIES[m]);
  const parts = highlight.split(/(<em>.*?<\/em>)/);
  const nodes = parts.filter(Boolean).map((part) =>
    part.startsWith('<em>') ? h('mark', { text: decode(part.slice(4, -5)) }) : decode(part));
  const text = nodes.map((n) => (typeof n === 'string' ? n : n.textContent)).join('');
  return text === title ? nodes : [title];  // a highlight of another title: trust the title
}

/** A random UUID (crypto.randomUUID needs a secure context; this works everywhere). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const TOAST_MS = { info: 6000, ok: 6000, error: 10000 };

/** Announces ``message`` in the polite live region and shows it as a toast, which hides
 * itself after a few seconds, at a click, or when the user goes to another page (router.js). */
export function announce(message, kind = 'info') {
  const box = document.getElementById('aviso');
  if (!box) return;
  box.className = `toast ${kind}`;
  replace(box, message);
  clearTimeout(announce.timer);
  announce.timer = setTimeout(dismiss, TOAST_MS[kind] || TOAST_MS.info);
}

/** Hides the toast (the live region stays, empty). */
export function dismiss() {
  const box = document.getElementById('aviso');
  if (!box) return;
  clearTimeout(announce.timer);
  box.className = 'toast';
  box.replaceChildren();
}

/** Names each data cell of ``root``'s tables after its column header (``data-label``), so
 * that a narrow screen can draw each row as a card of labelled values. */
export function labelCells(root) {
  for (const table of root.querySelectorAll('table.table')) {
    // a header seen only by screen readers ("Detalhes" over the links) labels no card cell
    const heads = [...table.querySelectorAll('thead th')]
      .map((th) => (th.querySelector('.sr-only') ? '' : th.textContent.trim()));
    if (!heads.length) continue;
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, i) => {
        if (heads[i] && !cell.hasAttribute('data-label')) cell.setAttribute('data-label', heads[i]);
      });
    }
  }
}

/** A labelled form field: {id, label, type, value, hint, attrs}; errors go in #<id>-erro. */
export function field({ id, label, type = 'text', value = '', hint, attrs = {}, control }) {
  const described = [hint ? `${id}-dica` : null, `${id}-erro`].filter(Boolean).join(' ');
  const input = control || h(type === 'textarea' ? 'textarea' : 'input', {
    id, name: id, ...(type === 'textarea' ? {} : { type }), value, 'aria-describedby': described,
    ...attrs,
  });
  if (control) input.setAttribute('aria-describedby', described);
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    hint ? h('p', { class: 'hint', id: `${id}-dica`, text: hint }) : null,
    input,
    h('p', { class: 'field-error', id: `${id}-erro` }));
}

/**
 * Shows the API's field errors ``{loc, code, msg}`` next to their fields (``msg`` is already in
 * Portuguese; the slot keeps the ``code`` in ``data-code``); returns the unmatched ones.
 * ``names`` maps an API field to a form control's id when they differ.
 */
export function showFieldErrors(form, errors, names = {}) {
  clearFieldErrors(form);
  const rest = [];
  let first = null;
  for (const error of errors || []) {
    const loc = Array.isArray(error.loc) ? error.loc : [];
    const key = String(loc[0] === 'body' ? loc[1] ?? '' : loc[0] ?? '');
    const input = form.querySelector(`#${CSS.escape(names[key] || key)}`);
    const slot = input && form.querySelector(`#${CSS.escape(input.id)}-erro`);
    if (!slot) { rest.push(error); continue; }
    const msg = String(error.msg ?? '');
    if (!slot.textContent.includes(msg)) slot.textContent = slot.textContent ? `${slot.textContent} ${msg}` : msg;
    if (error.code) slot.dataset.code = slot.dataset.code ? `${slot.dataset.code} ${error.code}` : String(error.code);
    input.setAttribute('aria-invalid', 'true');
    first = first || input;
  }
  if (first) first.focus();
  return rest;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll('.field-error')) { slot.textContent = ''; delete slot.dataset.code; }
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** An API error on a form: field messages beside their fields, the detail (and any message
 * that belongs to no field) in ``slot``. */
export function formProblem(form, slot, error) {
  const rest = showFieldErrors(form, (error && error.errors) || []);
  replace(slot, errorBox(error),
    rest.length ? h('ul', { class: 'error-list' }, rest.map((e) => h('li', { text: e.msg }))) : null);
}

/** A message box for an error (role=alert): the API's detail, never raw JSON. */
export function errorBox(error) {
  const id = error && error.requestId;
  return h('div', { class: 'error', role: 'alert' },
    h('p', { text: messageOf(error) }),
    id ? h('p', { class: 'muted small', text: `Código da requisição: ${id}` }) : null);
}

export function messageOf(error) {
  if (error && typeof error.message === 'string' && error.message) return error.message;
  return 'Algo deu errado. Tente novamente.';
}

/** Keeps a button disabled and labelled "busy" while ``work`` runs. */
export async function busy(button, text, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = text;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}
