// Drives the node with the official openai npm client, unchanged: only baseURL and apiKey differ.
// Prints one JSON line per check; the Java test asserts on them.
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.MARGINAL_BASE_URL, apiKey: process.env.MARGINAL_API_KEY, maxRetries: 0 });
const model = process.env.MARGINAL_MODEL;

const models = await client.models.list();
console.log(JSON.stringify({ check: 'models', ids: models.data.map(m => m.id) }));

const completion = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'How do I reset my password?' }], max_tokens: 8, temperature: 0,
});
console.log(JSON.stringify({ check: 'completion', id: completion.id, content: completion.choices[0].message.content,
  finish: completion.choices[0].finish_reason, usage: completion.usage }));

const stream = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'How do I reset my password?' }], max_tokens: 8, temperature: 0, stream: true,
});
let text = '';
let chunks = 0;
let finish = null;
for await (const chunk of stream) {
  chunks++;
  text += chunk.choices[0]?.delta?.content ?? '';
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
console.log(JSON.stringify({ check: 'stream', content: text, chunks, finish }));

try {
  await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  console.log(JSON.stringify({ check: 'error', status: null }));
} catch (e) {
  console.log(JSON.stringify({ check: 'error', status: e.status, code: e.code, type: e.type, message: e.message }));
}
