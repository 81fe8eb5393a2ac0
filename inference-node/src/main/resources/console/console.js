// The Marginal console: chat with streaming, feedback and "forget" actions, and the live panels
// (adapters, memory bank, deletion receipts) polled every 2 s. Every piece of data goes into the
// page through textContent (el() below), never innerHTML: user text cannot become markup.

import { ApiError, apiKey, getJson, postJson, streamChat } from './api.js';

const POLL_MS = 2000;
const HISTORY_MESSAGES = 6; // earlier turns sent with each question (the node bounds prompt tokens)

const $ = (id) => document.getElementById(id);

/** Creates an element; string children become text nodes. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === 'class') {
      node.className = value;
    } else if (name === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (name.startsWith('on')) {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function formatTime(iso) {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

const state = {
  user: null,
  history: [], // {role, content} of finished turns
  pollTimer: null,
  busy: false,
};

// ---- errors -------------------------------------------------------------------------------

function showError(context, error) {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  const item = el('div', { class: 'error' },
    el('strong', {}, `${context}: `), message,
    el('button', { type: 'button', class: 'link', 'aria-label': 'dismiss', onclick: () => item.remove() }, '×'));
  $('errors').append(item);
  while ($('errors').children.length > 4) {
    $('errors').firstElementChild.remove();
  }
  if (error instanceof ApiError && error.status === 401) {
    signOut('Your API key was refused: ' + message);
  }
}

// ---- sign in / out ------------------------------------------------------------------------

async function signIn(key) {
  apiKey.set(key);
  let me;
  try {
    me = await getJson('/v1/me');
  } catch (e) {
    apiKey.clear();
    showError('Sign in', e);
    return;
  }
  if (!me.user) {
    apiKey.clear();
    showError('Sign in', new Error('This is the admin key; it belongs to no user. Use a user\'s API key.'));
    return;
  }
  state.user = me.user;
  $('user-name').textContent = me.user;
  $('whoami').hidden = false;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('errors').replaceChildren();
  $('chat-input').focus();
  poll();
}

function signOut(reason) {
  apiKey.clear();
  clearTimeout(state.pollTimer);
  state.pollTimer = null;
  state.user = null;
  state.history = [];
  $('messages').replaceChildren();
  $('whoami').hidden = true;
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('api-key').value = '';
  if (reason) {
    $('errors').replaceChildren(el('div', { class: 'error' }, reason));
  }
}

// ---- chat ---------------------------------------------------------------------------------

function addUserMessage(text) {
  $('messages').append(el('li', { class: 'msg user' }, el('div', { class: 'bubble' }, text)));
}

function addAnswer() {
  const text = el('div', { class: 'bubble' }, el('span', { class: 'typing' }, '…'));
  const meta = el('div', { class: 'meta' });
  const actions = el('div', { class: 'actions' });
  const status = el('div', { class: 'status', 'aria-live': 'polite' });
  const item = el('li', { class: 'msg assistant', dataset: { state: 'streaming' } }, text, meta, actions, status);
  $('messages').append(item);
  return { item, text, meta, actions, status };
}

function scrollToEnd() {
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
}

function renderMeta(answer, result) {
  const adapters = result.adapters.length > 0 ? result.adapters.join(', ') : 'base model only';
  answer.meta.replaceChildren(
    el('span', {}, 'interaction ', el('code', { class: 'interaction-id' }, result.interactionId || '?')),
    el('span', {}, 'x-marginal-adapters: ', el('code', { class: 'adapters-used' }, adapters)));
}

function renderActions(answer, interactionId, prompt) {
  const say = (text, kind = 'ok') => {
    answer.status.replaceChildren(el('span', { class: kind }, text));
  };
  const feedback = async (kind, preferred) => {
    try {
      const body = { interaction_id: interactionId, kind };
      if (preferred) {
        body.preferred_response = preferred;
      }
      await postJson('/v1/feedback', body);
      say(kind === 'preferred_response' ? 'preferred response sent — it joins your memory bank' : `feedback "${kind}" sent`);
    } catch (e) {
      say(e.message, 'bad');
      showError('Feedback', e);
    }
  };
  const preferForm = el('form', { class: 'prefer', hidden: true });
  const preferInput = el('input', { type: 'text', placeholder: `the answer you wanted to "${prompt.slice(0, 40)}"`, required: true });
  preferForm.append(preferInput, el('button', { type: 'submit' }, 'send preferred'));
  preferForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = preferInput.value.trim();
    if (text) {
      preferForm.hidden = true;
      await feedback('preferred_response', text);
    }
  });
  const forget = async () => {
    try {
      const accepted = await postJson('/v1/deletions', { scope: 'interaction', target_ids: [interactionId] });
      answer.item.classList.add('forgotten');
      say(`deletion ${accepted.id} accepted — watch its receipt`);
    } catch (e) {
      say(e.message, 'bad');
      showError('Forget this', e);
    }
  };
  answer.actions.replaceChildren(
    el('button', { type: 'button', title: 'thumbs up', class: 'thumb', onclick: () => feedback('thumbs_up') }, '👍 good'),
    el('button', { type: 'button', title: 'thumbs down', class: 'thumb', onclick: () => feedback('thumbs_down') }, '👎 bad'),
    el('button', { type: 'button', class: 'prefer-button', onclick: () => { preferForm.hidden = !preferForm.hidden; preferInput.focus(); } }, 'prefer…'),
    el('button', { type: 'button', class: 'forget-button danger', onclick: forget }, 'forget this'),
    preferForm);
}

async function send(event) {
  event.preventDefault();
  const input = $('chat-input');
  const prompt = input.value.trim();
  if (!prompt || state.busy) {
    return;
  }
  state.busy = true;
  $('send-button').disabled = true;
  input.value = '';
  addUserMessage(prompt);
  const answer = addAnswer();
  scrollToEnd();
  let content = '';
  const messages = [...state.history.slice(-HISTORY_MESSAGES), { role: 'user', content: prompt }];
  try {
    if (!$('model-select').value) {
      // Sent before the first poll filled the model list (a slow node): the API needs a model, so load it now.
      renderModels(await getJson('/v1/models'));
    }
    const result = await streamChat({ model: $('model-select').value, messages }, {
      onStart: (r) => renderMeta(answer, r),
      onDelta: (delta) => {
        content += delta;
        answer.text.textContent = content;
        scrollToEnd();
      },
    });
    answer.text.textContent = content.length > 0 ? content : '(empty answer)';
    renderMeta(answer, result);
    renderActions(answer, result.interactionId, prompt);
    answer.item.dataset.state = 'done';
    state.history.push({ role: 'user', content: prompt }, { role: 'assistant', content });
  } catch (e) {
    answer.item.dataset.state = 'failed';
    answer.text.textContent = content;
    answer.status.replaceChildren(el('span', { class: 'bad' }, e.message));
    showError('Chat', e);
  } finally {
    state.busy = false;
    $('send-button').disabled = false;
    scrollToEnd();
  }
}

async function forgetConcept(event) {
  event.preventDefault();
  const concept = $('concept-input').value.trim();
  if (!concept) {
    return;
  }
  const status = $('concept-status');
  status.replaceChildren(el('span', { class: 'muted' }, 'sending…'));
  try {
    const accepted = await postJson('/v1/deletions', { scope: 'concept', concept });
    $('concept-input').value = '';
    status.replaceChildren(el('span', { class: 'ok', dataset: { deletionId: accepted.id } },
      `deletion accepted: forget "${concept}" (${accepted.id})`));
  } catch (e) {
    status.replaceChildren(el('span', { class: 'bad' }, e.message));
    showError('Forget a concept', e);
  }
}

// ---- live panels --------------------------------------------------------------------------

function stamp(id) {
  $(id).textContent = 'updated ' + new Date().toLocaleTimeString();
}

function renderModels(list) {
  const select = $('model-select');
  const chosen = select.value;
  const ids = list.data.map((m) => m.id);
  if (select.options.length !== ids.length || ids.some((id, i) => select.options[i].value !== id)) {
    select.replaceChildren(...ids.map((id) => el('option', { value: id }, id)));
    select.value = ids.includes(chosen) ? chosen : ids[0];
  }
  const base = list.data[0];
  const adapters = list.data.filter((m) => m.marginal && m.marginal.version !== undefined);
  $('adapters').replaceChildren(
    el('div', { class: 'kv' }, el('span', { class: 'muted' }, 'base model'), el('code', {}, base ? base.id : '?')),
    el('div', { class: 'kv' }, el('span', { class: 'muted' }, 'applied to your answers'),
      el('code', {}, base && base.marginal.adapters.length > 0 ? base.marginal.adapters.join(', ') : 'none')),
    adapters.length === 0
      ? el('p', { class: 'empty' }, 'No adapters yet: answers come from the base model (and your memory bank).')
      : el('ul', { class: 'rows' }, adapters.map((m) => el('li', { class: 'row adapter' },
        el('div', {}, el('strong', {}, m.id.slice(base.id.length + 1)), ' ', el('span', { class: 'badge' }, `v${m.marginal.version}`),
          ' ', el('span', { class: 'badge scope' }, m.marginal.scope)),
        el('div', { class: 'muted small' }, 'sha256 ', el('code', {}, String(m.marginal.sha256 || '').slice(0, 12)))))));
}

function renderMemory(bank) {
  const entries = bank.entries || [];
  $('memory').replaceChildren(
    el('div', { class: 'kv' }, el('span', { class: 'muted' }, 'revision'), el('code', {}, String(bank.revision)),
      el('span', { class: 'muted' }, 'entries'), el('code', {}, String(entries.length))),
    entries.length === 0
      ? el('p', { class: 'empty' }, 'Empty. Tell the model what you preferred ("prefer…") and it lands here.')
      : el('ul', { class: 'rows' }, entries.map((e) => el('li', { class: 'row entry' },
        el('div', { class: 'prompt' }, e.prompt),
        el('div', { class: 'flow' }, el('span', { class: 'was' }, e.model_response), el('span', { class: 'arrow' }, ' ⇒ '),
          el('span', { class: 'now' }, e.preferred_response)),
        el('div', { class: 'muted small' }, `weight ${Number(e.weight).toFixed(2)} · ${formatTime(e.timestamp)}`)))));
}

const STATUS_TEXT = {
  completed: 'erased',
  pending_unlearning: 'pending unlearning',
  unlearned: 'unlearned',
  rejected: 'rejected',
};

function renderReceipts(list) {
  const receipts = list.data || [];
  $('receipts').replaceChildren(receipts.length === 0
    ? el('p', { class: 'empty' }, 'No receipts yet. A deletion gets one when the system has erased the data.')
    : el('ul', { class: 'rows' }, receipts.map((r) => el('li', { class: 'row receipt', dataset: { deletionId: r.deletion_id, status: r.status } },
      el('div', {}, el('span', { class: `badge status-${r.status}` }, STATUS_TEXT[r.status] || r.status), ' ',
        el('strong', {}, r.scope), ' ', el('code', { class: 'small' }, r.deletion_id)),
      r.erased.length > 0 && el('ul', { class: 'erased small' }, r.erased.map((e) => el('li', {},
        el('code', {}, e.store), ` ${e.key} ×${e.count}`))),
      el('div', { class: 'muted small' }, `hidden ${formatTime(r.hidden_at)} · bytes gone by ${formatTime(r.physically_erased_by)}`),
      (r.covering_adapter || r.unlearning_request_id) && el('div', { class: 'muted small' },
        r.unlearning_request_id ? `unlearning ${r.unlearning_request_id}` : '',
        r.covering_adapter ? ` · covered by ${r.covering_adapter}` : ''),
      r.detail && el('div', { class: 'small' }, r.detail)))));
}

async function refresh(path, render, panel, age) {
  try {
    render(await getJson(path));
    stamp(age);
  } catch (e) {
    $(panel).replaceChildren(el('p', { class: 'bad' }, e.message));
    if (e instanceof ApiError && e.status === 401) {
      showError('Refresh', e);
    }
  }
}

async function poll() {
  clearTimeout(state.pollTimer);
  if (!state.user) {
    return;
  }
  const user = encodeURIComponent(state.user);
  await Promise.all([
    refresh('/v1/models', renderModels, 'adapters', 'adapters-age'),
    refresh(`/v1/users/${user}/memory`, renderMemory, 'memory', 'memory-age'),
    refresh(`/v1/users/${user}/receipts`, renderReceipts, 'receipts', 'receipts-age'),
  ]);
  if (state.user) {
    state.pollTimer = setTimeout(poll, POLL_MS);
  }
}

// ---- wiring -------------------------------------------------------------------------------

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (key) {
    signIn(key);
  }
});
$('sign-out').addEventListener('click', () => signOut());
$('chat-form').addEventListener('submit', send);
$('chat-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    $('chat-form').requestSubmit();
    event.preventDefault();
  }
});
$('concept-form').addEventListener('submit', forgetConcept);

if (apiKey.get()) {
  signIn(apiKey.get());
}
