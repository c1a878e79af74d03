// Signing in and creating an account.

import { send } from './http.js';
import { announce, busy, clearFieldErrors, field, formProblem, h } from './dom.js';
import { go, where } from './router.js';
import * as session from './session.js';

function destination() {
  const back = where().query.get('volta') || '';
  return /^#\/[^/]/.test(back) && !back.startsWith('#/entrar') ? back : '#/jogos';
}

const value = (form, id) => form.querySelector(`#${id}`).value;

export function loginView() {
  const message = h('div', { class: 'form-message' });
  const button = h('button', { type: 'submit', class: 'primary', text: 'Entrar' });
  const form = h('form', { class: 'panel narrow', novalidate: true },
    field({ id: 'email', label: 'E-mail', type: 'email', attrs: { autocomplete: 'username', required: true } }),
    field({ id: 'password', label: 'Senha', type: 'password', attrs: { autocomplete: 'current-password', required: true } }),
    message, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    await busy(button, 'Entrando…', async () => {
      try {
        await session.login(value(form, 'email').trim(), value(form, 'password'));
        announce('Você entrou na sua conta.', 'ok');
        go(destination());
      } catch (error) {
        formProblem(form, message, error);
      }
    });
  });
  return h('section', {}, h('h1', { text: 'Entrar' }), form,
    h('p', {}, 'Ainda não tem conta? ', h('a', { href: '#/cadastro', text: 'Crie uma' })));
}

export function registerView() {
  const message = h('div', { class: 'form-message' });
  const button = h('button', { type: 'submit', class: 'primary', text: 'Criar conta' });
  const form = h('form', { class: 'panel narrow', novalidate: true },
    field({ id: 'name', label: 'Nome', attrs: { autocomplete: 'name', required: true } }),
    field({ id: 'email', label: 'E-mail', type: 'email', attrs: { autocomplete: 'email', required: true } }),
    field({ id: 'password', label: 'Senha', type: 'password', hint: 'Pelo menos 8 caracteres, com uma letra, um número e um caractere especial.', attrs: { autocomplete: 'new-password', required: true } }),
    message, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = { name: value(form, 'name').trim(), email: value(form, 'email').trim(), password: value(form, 'password') };
    await busy(button, 'Criando conta…', async () => {
      try {
        await send('POST', '/users', { body });
        await session.login(body.email, body.password);
        announce('Conta criada. Boas-vindas à GameStore!', 'ok');
        go('#/jogos');
      } catch (error) {
        formProblem(form, message, error);
      }
    });
  });
  return h('section', {}, h('h1', { text: 'Criar conta' }), form,
    h('p', {}, 'Já tem conta? ', h('a', { href: '#/entrar', text: 'Entre' })));
}
