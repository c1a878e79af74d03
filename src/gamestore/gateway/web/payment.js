// Paying for an order: the test-card picker and the live order status, which polls the order
// and its payment until the order is completed or its payment has failed (no reload), and
// offers a retry with another card after a failure.

import { ApiError, authed } from './api.js';
import { announce, busy, dateTime, errorBox, h, newKey, replace } from './dom.js';

/** The PSP simulator's test cards (CONTRACT.md) with human labels. */
export const TEST_CARDS = [
  ['pm_card_visa', 'Visa 4242… (aprovado)'],
  ['pm_card_chargeDeclined', 'Visa 0002… (recusado)'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Visa 9995… (saldo insuficiente)'],
  ['pm_card_chargeDeclinedProcessingError', 'Visa 0119… (erro de processamento)'],
  ['pm_card_async', 'Pagamento assíncrono (aprovado depois, por webhook)'],
];

const REASONS = {
  card_declined: 'cartão recusado',
  insufficient_funds: 'saldo insuficiente',
  processing_error: 'erro no processamento do pagamento',
};

const HISTORY = {
  PaymentRequested: 'Pagamento solicitado',
  PaymentAttempted: 'Tentativa de cobrança',
  PaymentProcessing: 'Em processamento no emissor',
  PaymentSucceeded: 'Pagamento aprovado',
  PaymentFailed: 'Pagamento não aprovado',
  PaymentDeadLettered: 'Enviado à fila de erros',
  PaymentReopened: 'Pagamento reaberto',
  PaymentAnomalyRecorded: 'Resposta divergente registrada',
};

const ORDER_STATUS = {
  pending_payment: 'aguardando pagamento',
  completed: 'concluído',
  payment_failed: 'falhou',
};

const PAYMENT_STATUS = {
  pending: 'pendente', processing: 'processando', succeeded: 'aprovado', failed: 'falhou',
};

export function reasonText(reason) {
  return REASONS[reason] || (reason ? String(reason) : 'pagamento não aprovado');
}

export function orderStatusText(status) {
  return ORDER_STATUS[status] || String(status || '—');
}

export function paymentStatusText(payment) {
  const text = PAYMENT_STATUS[payment.status] || String(payment.status || '—');
  return payment.status === 'failed' ? `${text}: ${reasonText(payment.failure_reason)}` : text;
}

/** A fieldset of radio buttons, one per test card; ``name`` keeps several pickers apart. */
export function cardPicker(name, legend = 'Cartão de teste') {
  return h('fieldset', { class: 'cards' }, h('legend', { text: legend }),
    TEST_CARDS.map(([token, label], i) => h('div', { class: 'card-choice' },
      h('input', { type: 'radio', name, id: `${name}-${token}`, value: token, checked: i === 0 }),
      h('label', { for: `${name}-${token}`, text: label }))));
}

export function chosenCard(form, name) {
  const picked = form.querySelector(`input[name="${name}"]:checked`);
  return picked ? picked.value : TEST_CARDS[0][0];
}

/** The payment's status history as a list. */
export function historyList(payment) {
  const entries = Array.isArray(payment.history) ? payment.history : [];
  if (!entries.length) return h('p', { class: 'muted', text: 'Sem eventos ainda.' });
  return h('ol', { class: 'history' }, entries.map((entry) => h('li', {},
    h('time', { datetime: entry.at, text: dateTime(entry.at) }), ' — ',
    HISTORY[entry.type] || String(entry.type))));
}

/** What the player sees: order completed, the tracked payment failed, or still waiting. */
export function describe(order, payment) {
  if (order && order.status === 'completed') return { key: 'completed', text: 'concluído' };
  if (payment && payment.status === 'failed') {
    return { key: 'failed', text: `falhou: ${reasonText(payment.failure_reason)}` };
  }
  if (!payment && order && order.status === 'payment_failed') {
    return { key: 'failed', text: `falhou: ${reasonText(order.failure_reason)}` };
  }
  return { key: 'pending', text: 'aguardando pagamento' };
}

/** Polling delay: quick at first, then calmer (a dead-lettered payment takes a while). */
function delay(elapsed) {
  return elapsed < 20_000 ? 600 : 2_000;
}

/** The live status of ``orderId``; stops polling once terminal or once removed from the page. */
export function orderTracker(orderId, paymentId = null) {
  const tracker = new Tracker(orderId, paymentId);
  tracker.start();
  return tracker.box;
}

class Tracker {
  constructor(orderId, paymentId) {
    this.orderId = orderId;
    this.paymentId = paymentId;
    this.started = Date.now();
    this.status = h('strong', { class: 'order-status', 'data-status': 'pending', text: 'aguardando pagamento' });
    this.line = h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite' },
      'Situação do pedido: ', this.status);
    this.details = h('div', { class: 'tracker-details' });
    this.actions = h('div', { class: 'tracker-actions' });
    this.box = h('section', { class: 'tracker panel', 'aria-label': 'Situação do pedido', 'data-order': orderId },
      this.line, this.actions, this.details);
    this.last = null;
  }

  start() {
    this.timer = setTimeout(() => this.tick(), 0);
  }

  async tick() {
    if (this.seen && !this.box.isConnected) return;  // the player left the page
    this.seen = this.seen || this.box.isConnected;
    let terminal = false;
    try {
      terminal = await this.poll();
    } catch (error) {
      replace(this.details, errorBox(error));
      if (error instanceof ApiError && error.status === 401) return;  // signed out: stop
    }
    if (!terminal) this.timer = setTimeout(() => this.tick(), delay(Date.now() - this.started));
  }

  async poll() {
    const order = await authed('GET', `/pedidos/${encodeURIComponent(this.orderId)}`);
    const id = this.paymentId || order.payment_id;
    let payment = null;
    if (id) {
      try {
        payment = await authed('GET', `/pagamento/${encodeURIComponent(id)}`);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404) throw error;
      }
    }
    this.show(order, payment);
    const state = describe(order, payment).key;
    return state === 'completed' || (state === 'failed' && order.status === 'payment_failed');
  }

  show(order, payment) {
    const state = describe(order, payment);
    if (this.last !== state.text) {
      this.last = state.text;
      this.status.textContent = state.text;
      this.status.dataset.status = state.key;
      if (state.key !== 'pending') announce(`Pedido ${state.text}.`, state.key === 'failed' ? 'error' : 'ok');
    }
    replace(this.details, payment ? [
      h('p', { class: 'muted small', text: `Pagamento ${paymentStatusText(payment)} · tentativas: ${payment.attempts ?? 0}` }),
      historyList(payment)] : null);
    this.drawActions(state, order);
  }

  drawActions(state, order) {
    if (state.key === 'completed') {
      replace(this.actions, h('p', {}, h('a', { href: '#/biblioteca', text: 'Ver na biblioteca' })));
    } else if (state.key === 'failed' && order.status === 'payment_failed') {
      if (!this.actions.querySelector('form')) replace(this.actions, this.retryForm());
    } else {
      this.actions.replaceChildren();
    }
  }

  retryForm() {
    const name = `retry-${this.orderId}`;
    const button = h('button', { type: 'submit', class: 'primary', text: 'Tentar pagar de novo' });
    const message = h('div', { class: 'form-message' });
    const form = h('form', { class: 'retry' }, cardPicker(name, 'Escolha outro cartão'), button, message);
    let key = newKey();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { order_id: this.orderId, payment_method: chosenCard(form, name) };
      await busy(button, 'Enviando…', async () => {
        try {
          const answer = await authed('POST', '/pagamento', { body, headers: { 'Idempotency-Key': key } });
          key = newKey();
          this.retried(answer);
        } catch (error) {
          if (error instanceof ApiError && error.status) key = newKey();
          replace(message, errorBox(error));
        }
      });
    });
    return form;
  }

  retried(answer) {
    this.paymentId = answer.payment_id;
    this.started = Date.now();
    this.last = null;
    this.actions.replaceChildren();
    this.status.textContent = 'aguardando pagamento';
    this.status.dataset.status = 'pending';
    announce('Pagamento reenviado; aguardando a resposta.');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 300);
  }
}
