// Admin: a game's cover, uploaded (JPEG, PNG or WebP up to 5 MiB, sent as the request body)
// or removed (the game shows its generated artwork again).

import { authed } from './api.js';
import { announce, busy, errorBox, h, replace } from './dom.js';
import { coverImage, PAGE_SIZES } from './cover.js';

const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = 'image/jpeg,image/png,image/webp';

/** The cover panel of the game form; ``onChange(game)`` gets the game after each change
 * (its version went up: the form's If-Match must follow). */
export function coverWidget(game, onChange) {
  const preview = h('div', { class: 'cover-preview' });
  const message = h('div', { class: 'cover-message', 'aria-live': 'polite' });
  const input = h('input', { type: 'file', id: 'capa', name: 'capa', accept: TYPES, 'aria-describedby': 'capa-dica capa-erro' });
  const send = h('button', { type: 'button', class: 'primary', text: 'Enviar capa' });
  const remove = h('button', { type: 'button', class: 'danger', text: 'Remover capa' });
  const show = (current) => {
    replace(preview, coverImage(current.cover, current.title, { sizes: PAGE_SIZES, eager: true }));
    remove.hidden = Boolean(current.cover && current.cover.generated);
  };
  const changed = (saved, text) => { show(saved); onChange(saved); announce(text, 'ok'); };
  send.addEventListener('click', () => upload(game, input, send, message, (saved) => changed(saved, 'A capa foi atualizada.')));
  remove.addEventListener('click', () => busy(remove, 'Removendo…', async () => {
    try {
      await authed('DELETE', `/jogos/${encodeURIComponent(game.id)}/capa`);
      const saved = await authed('GET', `/jogos/${encodeURIComponent(game.id)}`);
      changed(saved, 'A capa enviada foi removida; o jogo volta a usar a arte gerada.');
    } catch (error) { replace(message, errorBox(error)); }
  }));
  show(game);
  return h('section', { class: 'panel cover-admin', 'aria-labelledby': 'titulo-capa' },
    h('h2', { id: 'titulo-capa', text: 'Capa' }), preview,
    h('div', { class: 'field' },
      h('label', { for: 'capa', text: 'Nova imagem de capa' }),
      h('p', { class: 'hint', id: 'capa-dica', text: 'JPEG, PNG ou WebP de até 5 MB. A imagem é recortada em 16:9.' }),
      input, h('p', { class: 'field-error', id: 'capa-erro' })),
    h('div', { class: 'actions' }, send, remove), message);
}

async function upload(game, input, button, message, done) {
  const file = input.files && input.files[0];
  const error = input.parentElement.querySelector('.field-error');
  error.textContent = '';
  message.replaceChildren();
  if (!file) { error.textContent = 'Escolha uma imagem.'; input.focus(); return; }
  if (file.size > MAX_BYTES) { error.textContent = 'A imagem passa de 5 MB.'; input.focus(); return; }
  await busy(button, 'Enviando…', async () => {
    try {
      done(await authed('PUT', `/jogos/${encodeURIComponent(game.id)}/capa`, { body: file }));
      input.value = '';
    } catch (failure) { replace(message, errorBox(failure)); }
  });
}
