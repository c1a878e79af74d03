// A confirmation asked in a modal <dialog>: the browser traps the focus inside it, Esc cancels,
// and the focus goes back where it was; "Cancelar" has the focus first, so Enter never
// confirms a destructive action by accident.

import { h } from './dom.js';

let count = 0;

/** Resolves true when the user confirms, false when they cancel or press Esc. */
export function confirmDialog({ title, text, confirm, danger = false }) {
  count += 1;
  const ids = { title: `dialogo-${count}-titulo`, text: `dialogo-${count}-texto` };
  const back = document.activeElement;
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': ids.title, 'aria-describedby': ids.text });
    const close = (answer) => () => dialog.close(answer);
    const cancel = h('button', { type: 'button', text: 'Cancelar', onclick: close('no') });
    dialog.append(
      h('h2', { id: ids.title, text: title }),
      h('p', { id: ids.text, text }),
      h('div', { class: 'actions' }, cancel,
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', text: confirm, onclick: close('yes') })));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (back && back.isConnected) back.focus();
      resolve(dialog.returnValue === 'yes');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
