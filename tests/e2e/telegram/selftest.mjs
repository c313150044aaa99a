// Self-check of front.mjs: starts it as a child process and plays the bot with
// plain fetch (as teloxide would) and the Rust test (through /test/*).
// Run with `npm test` (node --test selftest.mjs).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

let child;
let url;

before(async () => {
  child = spawn(process.execPath, [new URL('./front.mjs', import.meta.url).pathname], {
    env: { ...process.env, FRONT_PORT: '0', FRONT_QUIET: '1', FRONT_WEBHOOK_TIMEOUT_MS: '1000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  assert.match(line, /^READY \{"url":"http:\/\/127\.0\.0\.1:\d+"\}$/);
  url = JSON.parse(line.slice('READY '.length)).url;
});

after(async () => {
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

let tokenSeq = 0;
const newToken = () => `${1000 + ++tokenSeq}:SELFTEST`;

/** A Bot API call as teloxide makes it: POST JSON, parse the JSON answer. */
async function api(token, method, params = {}) {
  const res = await fetch(`${url}/bot${token}/${method}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params),
  });
  const body = await res.json();
  assert.equal(res.status, body.ok ? 200 : body.error_code, `status matches body for ${method}`);
  return body;
}
const ok = async (...args) => {
  const body = await api(...args);
  assert.equal(body.ok, true, JSON.stringify(body));
  return body.result;
};
const post = async (path, body) => (await fetch(`${url}/test/${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
})).json();
const get = async (path, query) => (await fetch(`${url}/test/${path}?${new URLSearchParams(query)}`)).json();

const keyboard = { inline_keyboard: [[{ text: 'Buy', callback_data: 'buy:1' }, { text: 'Site', url: 'https://example.com' }]] };

test('getMe has every field teloxide-core 0.13 Me needs', async () => {
  const me = await ok('123456:ABC', 'GetMe'); // teloxide 0.17 sends PascalCase method names
  assert.equal(me.id, 123456);
  assert.equal(me.is_bot, true);
  assert.equal(typeof me.first_name, 'string');
  assert.equal(typeof me.username, 'string');
  for (const key of ['can_join_groups', 'can_read_all_group_messages', 'supports_inline_queries',
    'can_connect_to_business', 'has_main_web_app']) assert.equal(typeof me[key], 'boolean', key);
});

test('/start reaches a long-polling getUpdates; empty poll waits for timeout', async () => {
  const token = newToken();
  const t0 = Date.now();
  const poll = ok(token, 'getUpdates', { timeout: 5, allowed_updates: [] });
  await new Promise((r) => setTimeout(r, 300));
  const sent = await post('send', { token, chat_id: 42, chat_type: 'private', user_id: 42, first_name: 'Ann', text: '/start abc', language_code: 'en' });
  assert.equal(sent.ok, true);
  const updates = await poll;
  assert.ok(Date.now() - t0 < 2000, 'returned as soon as the update arrived');
  assert.equal(updates.length, 1);
  const [u] = updates;
  assert.equal(u.update_id, sent.update_id);
  assert.deepEqual(u.message.from, { id: 42, is_bot: false, first_name: 'Ann', language_code: 'en' });
  assert.deepEqual(u.message.chat, { id: 42, type: 'private', first_name: 'Ann' });
  assert.equal(u.message.message_id, sent.message_id);
  assert.equal(u.message.text, '/start abc');
  assert.deepEqual(u.message.entities, [{ type: 'bot_command', offset: 0, length: 6 }]);
  assert.ok(Math.abs(u.message.date - Date.now() / 1000) < 5, 'date in seconds');
  assert.equal(u.message.botToken, undefined);

  // Not confirmed yet: delivered again. Confirmed via offset: gone; then a 2 s wait.
  assert.equal((await ok(token, 'getUpdates', { timeout: 0 })).length, 1);
  const t1 = Date.now();
  assert.deepEqual(await ok(token, 'getUpdates', { offset: u.update_id + 1, timeout: 2 }), []);
  const waited = Date.now() - t1;
  assert.ok(waited >= 1900 && waited < 3000, `waited ${waited} ms`);
});

test('group message, keyboard, press, edit, answer, delete', async () => {
  const token = newToken();
  const chat = -1001234567890;
  await post('send', { token, chat_id: chat, chat_type: 'supergroup', chat_title: 'Alpha', user_id: 7, first_name: 'Bo', text: 'hello' });
  const [upd] = await ok(token, 'getUpdates', { timeout: 1 });
  assert.deepEqual(upd.message.chat, { id: chat, type: 'supergroup', title: 'Alpha' });
  assert.equal(upd.message.entities, undefined);

  const msg = await ok(token, 'sendMessage', { chat_id: chat, text: 'Pick <b>one</b>', parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } });
  assert.deepEqual(msg.chat, { id: chat, type: 'supergroup', title: 'Alpha' });
  assert.equal(msg.from.is_bot, true);
  assert.equal(msg.text, 'Pick one');
  assert.deepEqual(msg.reply_markup, keyboard);
  assert.ok(Math.abs(msg.date - Date.now() / 1000) < 5, 'date in seconds');

  let [seen] = (await get('messages', { token, chat_id: chat })).messages;
  assert.equal(seen.message_id, msg.message_id);
  assert.equal(seen.text, 'Pick one');
  assert.equal(seen.raw_text, 'Pick <b>one</b>');
  assert.deepEqual(seen.reply_markup, keyboard);
  assert.equal(seen.date, msg.date);
  assert.ok(Math.abs(seen.received_at_ms - Date.now()) < 5000);
  assert.equal(seen.edited_at_ms, null);
  assert.equal(seen.deleted, false);

  // Press the button: the callback carries chat_instance and the full message.
  assert.equal((await post('press', { token, chat_id: chat, chat_type: 'supergroup', user_id: 7, message_id: msg.message_id, data: 'nope' })).ok, false);
  const press = await post('press', { token, chat_id: chat, chat_type: 'supergroup', user_id: 7, message_id: msg.message_id, data: 'buy:1' });
  assert.equal(press.ok, true);
  const [cbu] = await ok(token, 'getUpdates', { offset: upd.update_id + 1, timeout: 1 });
  assert.equal(cbu.update_id, press.update_id);
  const cq = cbu.callback_query;
  assert.equal(cq.id, press.callback_query_id);
  assert.equal(cq.data, 'buy:1');
  assert.equal(typeof cq.chat_instance, 'string');
  assert.equal(cq.from.id, 7);
  assert.deepEqual(cq.message, msg);

  assert.equal(await ok(token, 'answerCallbackQuery', { callback_query_id: cq.id, text: 'Done' }), true);
  assert.deepEqual((await get('callback_answers', { token })).answers,
    [{ callback_query_id: cq.id, text: 'Done', show_alert: false, url: null }]);
  assert.equal((await api(token, 'answerCallbackQuery', { callback_query_id: cq.id })).error_code, 400);

  // Edit text without markup: text changes, keyboard goes (as in Telegram).
  const edited = await ok(token, 'editMessageText', { chat_id: chat, message_id: msg.message_id, text: 'Bought' });
  assert.equal(edited.text, 'Bought');
  assert.equal(edited.reply_markup, undefined);
  assert.equal(typeof edited.edit_date, 'number');
  [seen] = (await get('messages', { token, chat_id: chat })).messages;
  assert.equal(seen.text, 'Bought');
  assert.equal(seen.reply_markup, null);
  assert.equal(seen.edit_count, 1);
  assert.ok(seen.edited_at_ms >= seen.received_at_ms);
  const same = await api(token, 'editMessageText', { chat_id: chat, message_id: msg.message_id, text: 'Bought' });
  assert.match(same.description, /message is not modified/);
  const withKb = await ok(token, 'editMessageReplyMarkup', { chat_id: chat, message_id: msg.message_id, reply_markup: keyboard });
  assert.deepEqual(withKb.reply_markup, keyboard);

  assert.equal(await ok(token, 'deleteMessage', { chat_id: chat, message_id: msg.message_id }), true);
  [seen] = (await get('messages', { token, chat_id: chat })).messages;
  assert.equal(seen.deleted, true);
  assert.equal(seen.text, 'Bought');
  assert.equal((await api(token, 'deleteMessage', { chat_id: chat, message_id: msg.message_id })).error_code, 400);
  assert.equal((await api(token, 'editMessageText', { chat_id: chat, message_id: msg.message_id, text: 'x' })).error_code, 400);
});

test('deleting a message sent right after a callback deletes that message', async () => {
  const token = newToken();
  await post('send', { token, chat_id: 5, user_id: 5, text: '/start' });
  const m1 = await ok(token, 'sendMessage', { chat_id: 5, text: 'menu', reply_markup: keyboard });
  await post('press', { token, chat_id: 5, user_id: 5, message_id: m1.message_id, data: 'buy:1' });
  const m2 = await ok(token, 'sendMessage', { chat_id: 5, text: 'confirm?' });
  assert.equal(await ok(token, 'deleteMessage', { chat_id: 5, message_id: m2.message_id }), true);
  const messages = (await get('messages', { token, chat_id: 5 })).messages;
  assert.deepEqual(messages.map((m) => [m.text, m.deleted]), [['menu', false], ['confirm?', true]]);
  const updates = await ok(token, 'getUpdates', {});
  assert.equal(updates.length, 2, 'the callback update is still there');
});

test('errors come back in Bot API shape', async () => {
  const token = newToken();
  const unknown = await api(token, 'sendDice', { chat_id: 1 });
  assert.equal(unknown.ok, false);
  assert.equal(unknown.error_code, 400);
  assert.equal(typeof unknown.description, 'string');
  const html = await api(token, 'sendMessage', { chat_id: 1, text: 'price < 5', parse_mode: 'HTML' });
  assert.match(html.description, /^Bad Request: can't parse entities: Unsupported start tag "" at byte offset 6$/);
  const md = await api(token, 'sendMessage', { chat_id: 1, text: 'Done.', parse_mode: 'MarkdownV2' });
  assert.match(md.description, /Character '\.' is reserved/);
  assert.equal((await ok(token, 'sendMessage', { chat_id: 1, text: '*Done*\\.', parse_mode: 'MarkdownV2' })).text, 'Done.');
  const longData = { inline_keyboard: [[{ text: 'x', callback_data: 'x'.repeat(65) }]] };
  assert.match((await api(token, 'sendMessage', { chat_id: 1, text: 'x', reply_markup: longData })).description, /BUTTON_DATA_INVALID/);
  assert.equal((await api(token, 'sendMessage', { chat_id: 1, text: 'x'.repeat(4097) })).error_code, 400);

  await post('inject_error', { token, method: 'sendMessage', error_code: 429, retry_after: 3 });
  const limited = await api(token, 'sendMessage', { chat_id: 1, text: 'hi' });
  assert.deepEqual(limited, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } });
  await ok(token, 'sendMessage', { chat_id: 1, text: 'hi' });
});

test('housekeeping methods answer like Telegram', async () => {
  const token = newToken();
  assert.equal(await ok(token, 'deleteWebhook', { drop_pending_updates: false }), true);
  assert.equal((await ok(token, 'getWebhookInfo')).url, '');
  const commands = [{ command: 'start', description: 'Start' }];
  assert.equal(await ok(token, 'setMyCommands', { commands }), true);
  assert.deepEqual(await ok(token, 'getMyCommands'), commands);
  assert.equal(await ok(token, 'sendChatAction', { chat_id: 3, action: 'typing' }), true);
  assert.equal(await ok(token, 'setChatMenuButton', {}), true);
  await post('send', { token, chat_id: -55, chat_type: 'group', user_id: 9, first_name: 'Cy', text: 'hi' });
  assert.deepEqual((await ok(token, 'getChat', { chat_id: -55 })).type, 'group');
  assert.equal((await ok(token, 'getChatMember', { chat_id: -55, user_id: 9 })).status, 'member');
  await post('set_admins', { token, chat_id: -55, user_ids: [9] });
  assert.equal((await ok(token, 'getChatMember', { chat_id: -55, user_id: 9 })).status, 'administrator');
  assert.equal((await ok(token, 'getChatAdministrators', { chat_id: -55 }))[0].user.first_name, 'Cy');
  assert.equal((await get('calls', { token, method: 'sendChatAction' })).calls.length, 1);

  // form-urlencoded with a JSON-string reply_markup, as some clients send
  const res = await fetch(`${url}/bot${token}/sendMessage`, {
    method: 'POST', body: new URLSearchParams({ chat_id: '-55', text: 'form', reply_markup: JSON.stringify(keyboard) }),
  });
  const body = await res.json();
  assert.equal(body.ok, true);
  assert.deepEqual(body.result.reply_markup, keyboard);
  assert.equal(body.result.chat.type, 'group');

  assert.equal((await post('reset', {})).ok, true);
  assert.deepEqual((await get('messages', { token, chat_id: -55 })).messages, []);
});

// ---------------------------------------------------------------- multipart and webhooks

/** A multipart call as teloxide (reqwest) makes it; `fields` values are strings or Blobs. */
async function multipart(token, method, fields) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value instanceof Blob) form.append(name, value, `${name}.bin`); else form.append(name, value);
  }
  const res = await fetch(`${url}/bot${token}/${method}`, { method: 'POST', body: form });
  const body = await res.json();
  assert.equal(res.status, body.ok ? 200 : body.error_code, `status matches body for ${method}`);
  return body;
}

/** A webhook receiver on 127.0.0.1: records each answered POST; `answer(hit, n)` picks the HTTP status (or 'hang'). */
async function receiver({ port = 0, answer = () => 200 } = {}) {
  const hits = [];
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const hit = { path: req.url, headers: req.headers, body: JSON.parse(raw) };
    const status = answer(hit, hits.length);
    if (status === 'hang') return; // never answers: the front times out
    hits.push(hit);
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const close = async () => { server.closeAllConnections(); server.close(); await once(server, 'close'); };
  return { hits, url: `http://127.0.0.1:${server.address().port}/hook`, port: server.address().port, close };
}

/** Polls `check` until it returns something truthy (or throws after `ms`). */
async function until(check, ms = 8000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('multipart calls work like JSON ones; file parts are recorded, not stored', async () => {
  const token = newToken();
  const msg = await multipart(token, 'SendMessage', {
    chat_id: '77', text: '<i>multi</i>part', parse_mode: 'HTML', reply_markup: JSON.stringify(keyboard),
  });
  assert.equal(msg.ok, true, JSON.stringify(msg));
  assert.equal(msg.result.text, 'multipart');
  assert.equal(msg.result.chat.id, 77);
  assert.deepEqual(msg.result.reply_markup, keyboard);

  // The shape reqwest gives teloxide's serde_multipart: text parts without a content type.
  const boundary = 'teloxideBoundary42';
  const part = (name, value) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const raw = `${part('chat_id', '77')}${part('text', 'raw parts')}${part('disable_notification', 'true')}--${boundary}--\r\n`;
  const res = await fetch(`${url}/bot${token}/sendMessage`, {
    method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: raw,
  });
  assert.equal((await res.json()).result.text, 'raw parts');

  const broken = await fetch(`${url}/bot${token}/sendMessage`, {
    method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=nope' }, body: 'garbage',
  });
  assert.equal(broken.status, 400);
  assert.match((await broken.json()).description, /^Bad Request: can't parse multipart/);

  // A method with an InputFile: parsed, then refused as unsupported (400, not a parse error).
  const photo = await multipart(token, 'sendPhoto', { chat_id: '77', photo: new Blob([new Uint8Array(10)]) });
  assert.match(photo.description, /method "sendPhoto" is not supported/);
  const [call] = (await get('calls', { token, method: 'sendPhoto' })).calls;
  assert.deepEqual(call.params.photo, { name: 'photo', filename: 'photo.bin', size: 10, content_type: 'application/octet-stream' });
});

test('setWebhook (multipart, with a certificate) and getWebhookInfo fields', async () => {
  const token = newToken();
  const hook = await receiver();
  const set = await multipart(token, 'SetWebhook', {
    url: hook.url, secret_token: 'S3cret_-x', max_connections: '10', drop_pending_updates: 'false',
    allowed_updates: JSON.stringify(['message', 'callback_query']), certificate: new Blob(['-----BEGIN CERTIFICATE-----']),
  });
  assert.deepEqual(set, { ok: true, result: true });
  assert.deepEqual(await ok(token, 'getWebhookInfo'), {
    url: hook.url, has_custom_certificate: true, pending_update_count: 0, ip_address: '127.0.0.1',
    max_connections: 10, allowed_updates: ['message', 'callback_query'],
  });
  const [call] = (await get('calls', { token, method: 'setWebhook' })).calls;
  assert.deepEqual(call.params.certificate, { name: 'certificate', filename: 'certificate.bin', size: 27, content_type: 'application/octet-stream' });

  // Refused like Telegram; a JSON setWebhook without certificate has has_custom_certificate false.
  assert.match((await api(token, 'setWebhook', { url: hook.url, secret_token: 'no spaces' })).description, /secret token contains unallowed characters/);
  assert.match((await api(token, 'setWebhook', { url: 'not a url' })).description, /invalid webhook URL/);
  await ok(token, 'setWebhook', { url: hook.url });
  const info = await ok(token, 'getWebhookInfo');
  assert.equal(info.has_custom_certificate, false);
  assert.equal(info.max_connections, 40);
  assert.equal(info.allowed_updates, undefined);
  // An empty url removes the webhook, as in Telegram.
  assert.equal(await ok(token, 'setWebhook', { url: '' }), true);
  assert.deepEqual(await ok(token, 'getWebhookInfo'), { url: '', has_custom_certificate: false, pending_update_count: 0 });
  await hook.close();
});

test('webhook: updates are pushed in order with the secret header; getUpdates is 409', async () => {
  const token = newToken();
  const hook = await receiver();
  await ok(token, 'setWebhook', { url: hook.url, secret_token: 'topsecret' });
  const conflict = await api(token, 'getUpdates', { timeout: 0 });
  assert.deepEqual(conflict, { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" });

  const sent = [];
  for (const text of ['/start', 'one', 'two']) sent.push(await post('send', { token, chat_id: 8, user_id: 8, first_name: 'Di', text }));
  const m = await ok(token, 'sendMessage', { chat_id: 8, text: 'menu', reply_markup: keyboard });
  const press = await post('press', { token, chat_id: 8, user_id: 8, message_id: m.message_id, data: 'buy:1' });
  await until(() => hook.hits.length >= 4, 8000, 'four pushes');
  assert.deepEqual(hook.hits.map((h) => h.body.update_id), [...sent.map((s) => s.update_id), press.update_id]);
  for (const hit of hook.hits) {
    assert.equal(hit.path, '/hook');
    assert.equal(hit.headers['x-telegram-bot-api-secret-token'], 'topsecret');
    assert.match(hit.headers['content-type'], /^application\/json/);
  }
  assert.equal(hook.hits[1].body.message.text, 'one');
  assert.equal(hook.hits[1].body.message.botToken, undefined);
  assert.equal(typeof hook.hits[3].body.callback_query.chat_instance, 'string');
  assert.equal((await ok(token, 'getWebhookInfo')).pending_update_count, 0);

  // /test/reset clears the data, not the webhook.
  await post('reset', { token });
  const later = await post('send', { token, chat_id: 8, user_id: 8, text: 'after reset' });
  await until(() => hook.hits.length >= 5, 5000, 'a push after reset');
  assert.equal(hook.hits[4].body.update_id, later.update_id);

  // A long poll running when the webhook is set ends with 409 too.
  await ok(token, 'deleteWebhook');
  const poll = api(token, 'getUpdates', { timeout: 5 });
  await new Promise((r) => setTimeout(r, 200));
  await ok(token, 'setWebhook', { url: hook.url });
  assert.equal((await poll).error_code, 409);
  await ok(token, 'deleteWebhook');
  await hook.close();
});

test('webhook: failed pushes (down, non-2xx, timeout) are retried and delivered; the front survives', async () => {
  const token = newToken();
  const probe = await receiver();
  const { port, url: hookUrl } = probe;
  await probe.close(); // nothing listens on `port` now
  await ok(token, 'setWebhook', { url: hookUrl, secret_token: 'abc' });
  const first = await post('send', { token, chat_id: 9, user_id: 9, text: 'while down 1' });
  const second = await post('send', { token, chat_id: 9, user_id: 9, text: 'while down 2' });
  const down = await until(async () => {
    const info = await ok(token, 'getWebhookInfo');
    return info.last_error_message && info;
  }, 5000, 'a delivery error');
  assert.equal(down.last_error_message, 'Connection refused');
  assert.ok(Math.abs(down.last_error_date - Date.now() / 1000) < 5);
  assert.equal(down.pending_update_count, 2);
  assert.equal((await ok(token, 'getMe')).is_bot, true, 'the front is alive');

  // Up again, but the first answer is a 500 and the second hangs past the push timeout (1 s here).
  let attempts = 0;
  const answer = () => { attempts++; return attempts === 1 ? 500 : attempts === 2 ? 'hang' : 200; };
  const back = await receiver({ port, answer });
  await until(() => back.hits.length >= 3, 10000, 'delivery after the server came back');
  // Attempt 1 (500) is recorded, attempt 2 timed out (not recorded), attempt 3 delivered; then the second update.
  assert.deepEqual(back.hits.map((h) => h.body.update_id), [first.update_id, first.update_id, second.update_id]);
  assert.equal(back.hits[0].headers['x-telegram-bot-api-secret-token'], 'abc');
  const info = await ok(token, 'getWebhookInfo');
  assert.equal(info.pending_update_count, 0);
  assert.equal(info.last_error_message, 'Read timeout expired');
  assert.equal(attempts, 4);
  await ok(token, 'deleteWebhook');
  await back.close();
});

test('deleteWebhook keeps or drops the pending updates; getUpdates works again', async () => {
  const token = newToken();
  const probe = await receiver();
  await probe.close();
  await ok(token, 'setWebhook', { url: probe.url });
  const kept = await post('send', { token, chat_id: 10, user_id: 10, text: 'kept' });
  await until(async () => (await ok(token, 'getWebhookInfo')).last_error_message, 5000, 'a delivery error');
  await ok(token, 'deleteWebhook', { drop_pending_updates: false });
  assert.deepEqual((await ok(token, 'getUpdates', { timeout: 0 })).map((u) => u.update_id), [kept.update_id]);

  // Unconfirmed polled updates go to the webhook once it is set; deleteWebhook can drop them.
  await ok(token, 'setWebhook', { url: probe.url });
  await post('send', { token, chat_id: 10, user_id: 10, text: 'dropped' });
  assert.equal((await ok(token, 'getWebhookInfo')).pending_update_count, 2);
  await ok(token, 'deleteWebhook', { drop_pending_updates: true });
  assert.deepEqual(await ok(token, 'getWebhookInfo'), { url: '', has_custom_certificate: false, pending_update_count: 0 });
  assert.deepEqual(await ok(token, 'getUpdates', { timeout: 0 }), []);
  const after = await post('send', { token, chat_id: 10, user_id: 10, text: 'polled' });
  assert.deepEqual((await ok(token, 'getUpdates', { timeout: 1 })).map((u) => u.message.text), ['polled']);

  // setWebhook with drop_pending_updates drops the queue before pushing.
  const hook = await receiver();
  await ok(token, 'setWebhook', { url: hook.url, drop_pending_updates: true });
  const next = await post('send', { token, chat_id: 10, user_id: 10, text: 'pushed' });
  await until(() => hook.hits.length >= 1, 5000, 'a push');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(hook.hits.map((h) => h.body.update_id), [next.update_id]);
  assert.ok(next.update_id > after.update_id);
  await ok(token, 'deleteWebhook');
  await hook.close();
});
