// The node's HTTP API as the console uses it: bearer key on every call, OpenAI-shaped errors
// turned into ApiError, and the chat stream read from SSE "data:" lines until [DONE].

const KEY_STORAGE = 'marginal.apiKey';

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE),
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

function headers(json) {
  const h = { Authorization: `Bearer ${apiKey.get()}` };
  if (json) {
    h['Content-Type'] = 'application/json';
  }
  return h;
}

async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) {
      message = body.error.message;
      code = body.error.code;
    }
  } catch (e) {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

export async function getJson(path) {
  const response = await fetch(path, { headers: headers(false), cache: 'no-store' });
  if (!response.ok) {
    throw await errorOf(response);
  }
  return response.json();
}

export async function postJson(path, body) {
  const response = await fetch(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body) });
  if (!response.ok) {
    throw await errorOf(response);
  }
  return response.json();
}

/**
 * POST /v1/chat/completions with stream:true. Calls onStart({interactionId, adapters}) once the
 * headers arrive, onDelta(text) per content delta, and resolves with {interactionId, adapters,
 * finishReason} at [DONE]. An error event inside the stream rejects with its message.
 */
export async function streamChat(body, { onStart, onDelta }) {
  const response = await fetch('/v1/chat/completions', {
    method: 'POST', headers: headers(true), body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok) {
    throw await errorOf(response);
  }
  const result = {
    interactionId: response.headers.get('x-marginal-interaction-id'),
    adapters: (response.headers.get('x-marginal-adapters') || '').split(',').filter((a) => a.length > 0),
    finishReason: null,
  };
  onStart(result);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      throw new ApiError(0, 'The stream ended before [DONE]; the answer may be incomplete.', 'stream_cut');
    }
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data === '') {
        continue;
      }
      if (data === '[DONE]') {
        // The node ends the response right after [DONE]: read that end rather than cancel (a cancel
        // races the end and shows up as an aborted request in the browser).
        (async () => { while (!(await reader.read()).done) { /* nothing after [DONE] */ } })().catch(() => {});
        return result;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new ApiError(0, chunk.error.message, chunk.error.code);
      }
      if (chunk.marginal && chunk.marginal.interaction_id) {
        result.interactionId = chunk.marginal.interaction_id;
      }
      const choice = chunk.choices && chunk.choices[0];
      if (choice && choice.delta && typeof choice.delta.content === 'string') {
        onDelta(choice.delta.content);
      }
      if (choice && choice.finish_reason) {
        result.finishReason = choice.finish_reason;
      }
    }
  }
}
