#!/usr/bin/env node
// Telegram Bot API test front for alfabot's end-to-end tests.
//
// It runs the npm emulator telegram-test-api 4.2.1 in-process (its TelegramServer,
// on its own random port on 127.0.0.1) and puts a small express server in front of
// it that teloxide 0.17 can talk to (TELEGRAM_API_URL=<url printed below>).
// The emulator stays the state store: messages the bot sent live in its
// storage.botMessages, user updates in storage.userMessages; bot methods the
// emulator implements are forwarded to it over HTTP and their answers patched.
// User input from the Rust test (/test/*) goes in through the emulator's own
// addUserMessage / addUserCommand / addUserCallback.
//
// Gaps of telegram-test-api 4.2.1 that this front closes for teloxide 0.17:
//  - getMe lacks is_bot, can_join_groups, can_read_all_group_messages,
//    supports_inline_queries, has_main_web_app, ... (teloxide panics without them).
//    The bot id is the numeric prefix of the token (as in real Telegram), else 666.
//  - sendMessage answers with date in milliseconds, chat always "private" and no
//    `from`; here every Message the bot gets is complete (seconds, right chat type).
//  - editMessageText / editMessageReplyMarkup / deleteMessage / answerCallbackQuery
//    answer `null`; here: the edited Message, true, true. Editing text without
//    reply_markup (or the markup with none) removes the inline keyboard, as Telegram
//    does (the emulator keeps the old one). Unknown messages, "message is not
//    modified" and double deletes give Telegram's 400 errors (the exact texts
//    teloxide maps to ApiError variants).
//  - deleteMessage in the emulator matches a callback update whose internal message
//    counter equals the id (callbacks do not consume message ids) and deletes that
//    instead of the message; the front removes the right record itself.
//  - callback_query updates lack chat_instance (teloxide drops such updates).
//  - getUpdates neither long-polls nor honours offset/limit (it marks updates read
//    as soon as it returns them). The front keeps the returned updates in a small
//    per-token buffer until the bot confirms them with `offset`, and waits up to
//    `timeout` seconds for new ones.
//  - unknown methods are HTTP 500 with a non-Bot-API body (teloxide then sleeps);
//    here: setMyCommands, sendChatAction, getChat, getChatMember, ... answer like
//    Telegram, anything else is a 400 in Bot API shape. Method names are
//    case-insensitive, as in Telegram.
//  - no multipart/form-data (teloxide sends setWebhook and every method with an
//    InputFile that way). The front parses it with Node's own fetch (Request#formData,
//    no extra dependency): text parts are parameters like form fields (JSON-valued ones
//    such as reply_markup or allowed_updates are decoded), file parts are recorded in
//    /test/calls as {name, filename, size, content_type} and their bytes dropped.
//  - webhooks: the emulator's push (axios from addUserUpdate) throws on any failure and
//    takes the process down, and its setWebhook takes no secret, allowed_updates, ...
//    The emulator's webhook is disabled; the front implements setWebhook / deleteWebhook /
//    getWebhookInfo itself: updates are POSTed as JSON to the url, in order and one at a
//    time per bot, with X-Telegram-Bot-Api-Secret-Token when secret_token is set; any
//    2xx is a delivery. A failed push (refused, non-2xx, timeout) keeps the update first
//    in line, is reported in getWebhookInfo (last_error_date, last_error_message,
//    pending_update_count) and retried with backoff, never dropped. While a webhook is
//    set, getUpdates is 409 Conflict (with Telegram's text), as is a long poll running
//    when it gets set. drop_pending_updates (setWebhook, deleteWebhook) drops the queue.
//  - messages older than 60 s are purged by the emulator's clean-up timer; the
//    front sets storeTimeout to 20 days.
//  - TelegramServer turns port 0 into 9000; the front listens on a random port.
//  - no parse_mode handling: HTML / MarkdownV2 / Markdown are rendered to plain
//    text and malformed markup is refused like Telegram does (formatting.mjs).
//  - no limits: texts over 4096 chars and callback_data over 64 bytes are refused.
//  - no 429s or other server errors: /test/inject_error makes the next call(s) fail.
//
// State the front keeps itself (the emulator has no place for it): per bot token,
// the chats and users the test introduced, metadata of bot messages (receive time,
// edit count, deletion, a snapshot of deleted ones), the update buffer above (also the
// webhook queue), the webhook settings, callback query answers, commands, admins,
// injected errors and a call log.
//
// Start: node front.mjs  (env FRONT_PORT, default 0 = random). Prints exactly one
// line to stdout: READY {"url":"http://127.0.0.1:PORT"}; logs go to stderr
// (FRONT_QUIET=1 silences the per-call log). SIGTERM/SIGINT exit 0.
// Webhook pushes: FRONT_WEBHOOK_TIMEOUT_MS (10000) per push, first retry after
// FRONT_WEBHOOK_RETRY_MS (100), doubling up to FRONT_WEBHOOK_RETRY_MAX_MS (2000).
// The test API (/test/send, /test/press, /test/messages, ...) is described in README.md.

import { isIP } from 'node:net';
import express from 'express';
import TelegramServer from 'telegram-test-api';
import { ParseError, renderText } from './formatting.mjs';

const HOST = '127.0.0.1';
const quiet = process.env.FRONT_QUIET === '1';
const log = (...parts) => process.stderr.write(`[tg-front] ${parts.join(' ')}\n`);

// ---------------------------------------------------------------- emulator

const emu = new TelegramServer({ host: HOST, storeTimeout: 20 * 24 * 3600 });
emu.config.port = 0; // normalizeConfig replaced 0 by 9000
await emu.start();
emu.server.keepAliveTimeout = 100_000;
const emuUrl = `http://${HOST}:${emu.server.address().port}`;
emu.config.apiURL = emuUrl;
// The emulator's own webhook (axios POST from addUserUpdate, which throws on any failure and
// takes the process down) must never fire: webhooks are the front's job (see "webhook" below).
emu.setWebhook = () => { throw new Error('the emulator webhook is disabled by the test front'); };
emu.webhooks = Object.freeze(Object.create(null));

/** Call a Bot API method on the emulator; returns `result` or throws ApiError. */
async function emulator(token, method, params) {
  const res = await fetch(`${emuUrl}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = await res.json().catch(() => ({}));
  if (res.ok && body.ok) return body.result;
  if (body.ok === false) throw new ApiError(body.error_code ?? 400, body.description ?? 'Bad Request');
  throw new ApiError(500, `Internal Server Error: emulator ${method}: ${body.message ?? res.status}`);
}

const emuBotRecord = (token, chatId, messageId) => emu.storage.botMessages.find((u) =>
  u.botToken === token && u.messageId === messageId && Number(u.message.chat_id) === chatId);

/** Resolves after `ms`, or earlier when any wake-up function in `sets` is called. */
function pause(ms, ...sets) {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); for (const set of sets) set.delete(done); resolve(); };
    const timer = setTimeout(done, ms);
    for (const set of sets) set.add(done);
  });
}
const wakeAll = (set) => { for (const wake of [...set]) wake(); };

// Wake-ups: the emulator emits an event after storing each user update (long polls and
// webhook pushers wait for it); webhook changes wake both long polls and pushers.
let userUpdateSeq = 0;
const waiters = new Set(); // woken by user updates and webhook changes
const hookWaiters = new Set(); // woken by webhook changes only (pushers backing off)
for (const event of ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery']) {
  emu.on(event, () => { userUpdateSeq++; wakeAll(waiters); });
}
function webhookChanged() { wakeAll(waiters); wakeAll(hookWaiters); }
/** Resolves once a user update arrived after `seq` was read, a webhook changed, or after `ms`. */
function userUpdateAfter(seq, ms) {
  if (userUpdateSeq !== seq) return Promise.resolve();
  return pause(ms, waiters);
}

const emuMe = await emulator('0:init', 'getMe', {}); // { id: 666, first_name, username }

// ---------------------------------------------------------------- front state

class ApiError extends Error {
  constructor(code, description, parameters) {
    super(description);
    Object.assign(this, { code, description, parameters });
  }
}
const bad = (description) => new ApiError(400, `Bad Request: ${description}`);

const bots = new Map(); // token -> state below
function bot(token) {
  if (!bots.has(token)) {
    bots.set(token, {
      chats: new Map(), // chat id -> Chat object
      users: new Map(), // user id -> User object
      sent: new Map(), // "chat:message" -> metadata of a bot message
      userMessages: [], // messages delivered through /test/send
      callbacks: new Set(), // callback query ids issued by /test/press, not yet answered
      answers: [], // answerCallbackQuery calls
      pending: [], // updates taken from the emulator, not yet confirmed by `offset` or pushed
      webhook: null, // setWebhook settings and delivery errors, null in getUpdates mode
      commands: new Map(), // setMyCommands by scope + language
      admins: new Map(), // chat id -> Set of admin user ids
      faults: [], // injected errors
      calls: [], // every Bot API call
    });
  }
  return bots.get(token);
}
const msgKey = (chatId, messageId) => `${chatId}:${messageId}`;
const nowSec = () => Math.floor(Date.now() / 1000);
const chatInstance = (chatId) => String(BigInt.asUintN(63, BigInt(chatId) * 2654435761n + 1234567n));

function botUser(token) {
  const id = /^(\d+):/.exec(token)?.[1];
  return { ...emuMe, id: id ? Number(id) : emuMe.id, is_bot: true };
}

// Telegram's id ranges: users positive, basic groups negative, supergroups -100xxxxxxxxxx.
const inferChatType = (chatId) => (chatId > 0 ? 'private' : chatId <= -1e12 ? 'supergroup' : 'group');

/** The Chat object for a chat id: as introduced by the test, else inferred from the id. */
function chatObject(state, chatId) {
  const known = state.chats.get(chatId);
  if (known) return known;
  if (chatId > 0) {
    const user = state.users.get(chatId);
    return { id: chatId, type: 'private', first_name: user?.first_name ?? `User ${chatId}` };
  }
  const type = inferChatType(chatId);
  return { id: chatId, type, title: `Test ${type} ${-chatId}` };
}

/** The complete Message teloxide expects for a message the bot sent. */
function botMessage(token, chatId, messageId) {
  const state = bot(token);
  const meta = state.sent.get(msgKey(chatId, messageId));
  const stored = emuBotRecord(token, chatId, messageId)?.message ?? meta.last;
  const msg = {
    message_id: messageId, from: botUser(token), chat: chatObject(state, chatId),
    date: meta.date, text: stored.text,
  };
  if (meta.edit_count) msg.edit_date = Math.floor(meta.edited_at_ms / 1000);
  if (stored.reply_markup?.inline_keyboard) msg.reply_markup = { inline_keyboard: stored.reply_markup.inline_keyboard };
  return msg;
}

// ---------------------------------------------------------------- updates and webhooks

/**
 * Moves the bot's unread updates from the emulator into its `pending` list (synchronously,
 * so concurrent callers cannot reorder them) and returns the bot state.
 */
function collect(token) {
  // A JSON copy, as the emulator's HTTP getUpdates would give (its updates share objects with storage).
  const fresh = JSON.parse(JSON.stringify(emu.getUpdates(token))); // marks them read in the emulator
  const state = bot(token);
  for (const update of fresh) {
    if (update.message) { // drop the emulator's bookkeeping field
      const { botToken, ...message } = update.message;
      update.message = message;
    }
    if (update.callback_query) {
      update.callback_query.chat_instance ??= chatInstance(update.callback_query.message?.chat?.id ?? update.callback_query.from.id);
    }
    state.pending.push(update);
  }
  return state;
}

function dropPending(token) { collect(token).pending = []; }

const WEBHOOK_CONFLICT = () => new ApiError(409, 'Conflict: can\'t use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first');
const WEBHOOK_TIMEOUT_MS = Number(process.env.FRONT_WEBHOOK_TIMEOUT_MS ?? 10_000);
const WEBHOOK_RETRY_MS = Number(process.env.FRONT_WEBHOOK_RETRY_MS ?? 100); // first retry; doubles
const WEBHOOK_RETRY_MAX_MS = Number(process.env.FRONT_WEBHOOK_RETRY_MAX_MS ?? 2000);

const updateType = (update) => Object.keys(update).find((key) => key !== 'update_id');
/** Pending updates the webhook will push: those of other types than allowed_updates are dropped. */
function pushable(state) {
  const allowed = state.webhook?.allowed_updates;
  if (allowed?.length) state.pending = state.pending.filter((u) => allowed.includes(updateType(u)));
  return state.pending;
}

/** Telegram's last_error_message for a failed push. */
function pushError(e) {
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'Read timeout expired';
  const code = e.cause?.code ?? e.code;
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'Connection reset by peer';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'Failed to resolve host: Name or service not known';
  return e.cause?.message ?? e.message;
}

/** POSTs one update to the webhook; throws Error(last_error_message) unless the answer is 2xx. */
async function push(hook, update) {
  const headers = { 'content-type': 'application/json' };
  if (hook.secret_token) headers['x-telegram-bot-api-secret-token'] = hook.secret_token;
  let status;
  let statusText;
  try {
    const res = await fetch(hook.url, {
      method: 'POST', headers, body: JSON.stringify(update), redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    ({ status, statusText } = res);
    await res.arrayBuffer(); // the answer is ignored (no method calls in webhook replies)
  } catch (e) {
    throw new Error(pushError(e));
  }
  if (status < 200 || status > 299) throw new Error(`Wrong response from the webhook: ${status} ${statusText}`.trimEnd());
}

// One pusher per bot token while a webhook is set: it delivers the pending updates in order,
// one at a time; a failed push keeps the update first in line, is recorded for
// getWebhookInfo, and is retried with exponential backoff (never given up, never fatal).
const pushers = new Set();
function startPusher(token) {
  if (pushers.has(token)) return; // the running one sees the new settings (webhookChanged woke it)
  pushers.add(token);
  pushLoop(token);
}
async function pushLoop(token) {
  let backoff = WEBHOOK_RETRY_MS;
  let lastHook = null;
  for (;;) {
    const hook = bot(token).webhook;
    if (!hook) { pushers.delete(token); return; } // synchronously with the check, see startPusher
    if (hook !== lastHook) { backoff = WEBHOOK_RETRY_MS; lastHook = hook; }
    try {
      const seq = userUpdateSeq;
      const [update] = pushable(collect(token));
      if (!update) {
        await userUpdateAfter(seq, 60_000);
        continue;
      }
      try {
        await push(hook, update);
      } catch (e) {
        hook.last_error_date = nowSec();
        hook.last_error_message = e.message;
        if (!quiet) log('webhook push of update', update.update_id, 'to', hook.url, 'failed:', e.message, `(retry in ${backoff} ms)`);
        await pause(backoff, hookWaiters);
        backoff = Math.min(backoff * 2, WEBHOOK_RETRY_MAX_MS);
        continue;
      }
      backoff = WEBHOOK_RETRY_MS;
      const state = bot(token); // may be a new one after /test/reset
      state.pending = state.pending.filter((u) => u.update_id !== update.update_id);
      if (!quiet) log('webhook pushed update', update.update_id, 'to', hook.url);
    } catch (e) { // a bug, not a delivery failure: keep serving
      log('webhook pusher error:', e.stack);
      await pause(WEBHOOK_RETRY_MAX_MS, hookWaiters);
    }
  }
}

// ---------------------------------------------------------------- Bot API methods

function chatIdOf(p) {
  if (p.chat_id === undefined || p.chat_id === '') throw bad('chat_id is empty');
  const id = Number(p.chat_id);
  if (!Number.isSafeInteger(id) || id === 0) throw bad('chat not found');
  return id;
}

function render(text, parseMode) {
  if (typeof text !== 'string' || !text.trim()) throw bad('message text is empty');
  let plain;
  try { plain = renderText(text, parseMode); } catch (e) {
    if (e instanceof ParseError) throw bad(`can't parse entities: ${e.message}`);
    throw e;
  }
  if (!plain.trim()) throw bad('message text is empty');
  if (plain.length > 4096) throw bad('message is too long');
  return plain;
}

function checkMarkup(markup) {
  for (const row of markup?.inline_keyboard ?? []) {
    for (const button of row) {
      if (!('callback_data' in button)) continue;
      const n = Buffer.byteLength(String(button.callback_data));
      if (n < 1 || n > 64) throw bad('BUTTON_DATA_INVALID');
    }
  }
}

/** Find a bot message for an edit: returns ids + emulator record, or 400. */
function editTarget(token, p) {
  if (p.inline_message_id) throw bad('inline messages are not supported by the test front');
  const chatId = chatIdOf(p);
  const messageId = Number(p.message_id);
  const meta = bot(token).sent.get(msgKey(chatId, messageId));
  const record = emuBotRecord(token, chatId, messageId);
  if (!meta || meta.deleted || !record) throw bad('message to edit not found');
  return { chatId, messageId, meta, record };
}

/** Shared tail of both edits: Telegram's "not modified" check, forward, fix markup. */
async function edit(token, method, p, target, text) {
  const { chatId, messageId, meta, record } = target;
  const markup = p.reply_markup?.inline_keyboard ? p.reply_markup : undefined;
  const oldMarkup = record.message.reply_markup?.inline_keyboard ? record.message.reply_markup : undefined;
  if (text === record.message.text && JSON.stringify(markup) === JSON.stringify(oldMarkup)) {
    throw bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
  }
  await emulator(token, method, { ...p, chat_id: chatId, message_id: messageId, text });
  // The emulator merges the edit into the old message; without markup Telegram drops the keyboard.
  if (!markup) delete emuBotRecord(token, chatId, messageId).message.reply_markup;
  meta.edit_count++;
  meta.edited_at_ms = Date.now();
  return botMessage(token, chatId, messageId);
}

const ADMIN_RIGHTS = {
  is_anonymous: false, can_be_edited: false, can_manage_chat: true, can_change_info: true,
  can_post_messages: false, can_edit_messages: false, can_delete_messages: true,
  can_post_stories: false, can_edit_stories: false, can_delete_stories: false,
  can_manage_video_chats: true, can_invite_users: true, can_restrict_members: true,
  can_pin_messages: true, can_manage_topics: false, can_promote_members: false,
};
function chatMember(token, chatId, userId) {
  const state = bot(token);
  const me = botUser(token);
  const user = userId === me.id ? me
    : state.users.get(userId) ?? { id: userId, is_bot: false, first_name: `User ${userId}` };
  return state.admins.get(chatId)?.has(userId)
    ? { user, status: 'administrator', ...ADMIN_RIGHTS }
    : { user, status: 'member' };
}

const commandsKey = (p) => JSON.stringify([p.scope ?? { type: 'default' }, p.language_code ?? '']);

const methods = {
  async getme(token) {
    const me = await emulator(token, 'getMe', {});
    return {
      ...me, ...botUser(token),
      can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false,
      can_connect_to_business: false, has_main_web_app: false,
      has_topics_enabled: false, allows_users_to_create_topics: false,
    };
  },

  async getupdates(token, p) {
    const offset = p.offset === undefined ? undefined : Number(p.offset);
    const limit = Math.min(Math.max(Number(p.limit ?? 100) || 100, 1), 100);
    const deadline = Date.now() + Math.max(Number(p.timeout ?? 0) || 0, 0) * 1000;
    for (;;) {
      if (bot(token).webhook) throw WEBHOOK_CONFLICT();
      const seq = userUpdateSeq;
      const state = collect(token);
      if (offset !== undefined) {
        state.pending = offset < 0 ? state.pending.slice(offset) : state.pending.filter((u) => u.update_id >= offset);
      }
      if (state.pending.length || Date.now() >= deadline) return state.pending.slice(0, limit);
      await userUpdateAfter(seq, deadline - Date.now());
    }
  },

  async sendmessage(token, p) {
    const chatId = chatIdOf(p);
    const text = render(p.text, p.parse_mode);
    checkMarkup(p.reply_markup);
    const receivedAt = Date.now();
    const sent = await emulator(token, 'sendMessage', { ...p, chat_id: chatId, text });
    bot(token).sent.set(msgKey(chatId, sent.message_id), {
      chat_id: chatId, message_id: sent.message_id, date: Math.floor(sent.date / 1000),
      received_at_ms: receivedAt, edited_at_ms: null, edit_count: 0, deleted: false,
      raw_text: p.text, parse_mode: p.parse_mode ?? null, last: null,
    });
    return botMessage(token, chatId, sent.message_id);
  },

  async editmessagetext(token, p) {
    const target = editTarget(token, p);
    const text = render(p.text, p.parse_mode);
    checkMarkup(p.reply_markup);
    const message = await edit(token, 'editMessageText', p, target, text);
    Object.assign(target.meta, { raw_text: p.text, parse_mode: p.parse_mode ?? null });
    return message;
  },

  async editmessagereplymarkup(token, p) {
    const target = editTarget(token, p);
    checkMarkup(p.reply_markup);
    return edit(token, 'editMessageReplyMarkup', p, target, target.record.message.text);
  },

  // Done here rather than forwarded: the emulator may delete the wrong record (see header).
  async deletemessage(token, p) {
    const chatId = chatIdOf(p);
    const messageId = Number(p.message_id);
    const state = bot(token);
    const meta = state.sent.get(msgKey(chatId, messageId));
    const record = emuBotRecord(token, chatId, messageId);
    if (meta && record) {
      meta.last = record.message; // keep the final content for /test/messages
      meta.deleted = true;
      emu.removeBotMessage(record.updateId);
      return true;
    }
    const userRecord = emu.storage.userMessages.find((u) => u.botToken === token && u.message
      && u.messageId === messageId && u.message.chat.id === chatId);
    const userMessage = state.userMessages.find((m) => m.chat_id === chatId && m.message_id === messageId && !m.deleted);
    if (!userRecord && !userMessage) throw bad('message to delete not found');
    if (userRecord) emu.removeUserMessage(userRecord.updateId);
    if (userMessage) userMessage.deleted = true;
    return true;
  },

  async answercallbackquery(token, p) {
    const state = bot(token);
    const id = String(p.callback_query_id ?? '');
    if (!state.callbacks.delete(id)) throw bad('query is too old and response timeout expired or query id is invalid');
    await emulator(token, 'answerCallbackQuery', p);
    state.answers.push({ callback_query_id: id, text: p.text ?? null, show_alert: flag(p.show_alert), url: p.url ?? null });
    return true;
  },

  async setwebhook(token, p) {
    const url = typeof p.url === 'string' ? p.url.trim() : '';
    if (!url) return methods.deletewebhook(token, p); // as in Telegram: an empty url removes it
    let parsed;
    try { parsed = new URL(url); } catch { throw bad('invalid webhook URL specified'); }
    if (!['http:', 'https:'].includes(parsed.protocol)) throw bad('bad webhook: HTTPS url must be provided for webhook');
    const secret = p.secret_token === undefined || p.secret_token === '' ? null : String(p.secret_token);
    if (secret !== null && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw bad('secret token contains unallowed characters');
    let allowed = null;
    if (p.allowed_updates !== undefined && p.allowed_updates !== '') {
      if (!Array.isArray(p.allowed_updates)) throw bad('can\'t parse allowed_updates JSON array');
      allowed = p.allowed_updates.map(String);
    }
    const maxConnections = p.max_connections === undefined || p.max_connections === ''
      ? 40 : Math.min(Math.max(Math.trunc(Number(p.max_connections)) || 40, 1), 100);
    const ip = typeof p.ip_address === 'string' && isIP(p.ip_address) ? p.ip_address
      : isIP(parsed.hostname.replace(/^\[|\]$/g, '')) ? parsed.hostname.replace(/^\[|\]$/g, '') : null;
    const state = bot(token);
    if (flag(p.drop_pending_updates)) dropPending(token);
    const previous = state.webhook;
    state.webhook = {
      url: parsed.href, secret_token: secret, allowed_updates: allowed, max_connections: maxConnections,
      ip_address: ip, has_custom_certificate: p.certificate instanceof UploadedFile,
      // Telegram keeps the last delivery error across setWebhook calls.
      last_error_date: previous?.last_error_date ?? null, last_error_message: previous?.last_error_message ?? null,
    };
    webhookChanged();
    startPusher(token);
    return true;
  },
  async deletewebhook(token, p) {
    bot(token).webhook = null;
    if (flag(p.drop_pending_updates)) dropPending(token);
    webhookChanged();
    return true;
  },
  async getwebhookinfo(token) {
    const state = collect(token);
    const hook = state.webhook;
    const info = { url: hook?.url ?? '', has_custom_certificate: hook?.has_custom_certificate ?? false, pending_update_count: pushable(state).length };
    if (!hook) return info;
    if (hook.ip_address) info.ip_address = hook.ip_address;
    if (hook.last_error_date !== null) Object.assign(info, { last_error_date: hook.last_error_date, last_error_message: hook.last_error_message });
    info.max_connections = hook.max_connections;
    if (hook.allowed_updates) info.allowed_updates = hook.allowed_updates;
    return info;
  },

  async setmycommands(token, p) { bot(token).commands.set(commandsKey(p), p.commands ?? []); return true; },
  async deletemycommands(token, p) { bot(token).commands.delete(commandsKey(p)); return true; },
  async getmycommands(token, p) { return bot(token).commands.get(commandsKey(p)) ?? []; },

  async getchat(token, p) {
    return {
      ...chatObject(bot(token), chatIdOf(p)),
      accepted_gift_types: { unlimited_gifts: false, limited_gifts: false, unique_gifts: false, premium_subscription: false },
      max_reaction_count: 11, accent_color_id: 0,
    };
  },
  async getchatmember(token, p) { return chatMember(token, chatIdOf(p), Number(p.user_id)); },
  async getchatadministrators(token, p) {
    const chatId = chatIdOf(p);
    return [...(bot(token).admins.get(chatId) ?? [])].map((id) => chatMember(token, chatId, id));
  },
  async getchatmenubutton() { return { type: 'default' }; },
};
// Methods that only need to succeed.
for (const name of ['sendChatAction', 'setChatMenuButton', 'setMyDescription', 'setMyShortDescription',
  'setMyName', 'setMyDefaultAdministratorRights', 'pinChatMessage', 'unpinChatMessage',
  'unpinAllChatMessages', 'leaveChat', 'close', 'logOut']) {
  methods[name.toLowerCase()] = async (token, p) => {
    if ('chat_id' in p) chatIdOf(p);
    return true;
  };
}

/** An injected error for this call, if the test asked for one. */
function takeFault(token, method, p) {
  const faults = bot(token).faults;
  const i = faults.findIndex((f) => f.method === method
    && (f.chat_id === undefined || Number(p.chat_id) === f.chat_id));
  if (i < 0) return null;
  const f = faults[i];
  if (f.times > 0 && --f.times === 0) faults.splice(i, 1);
  return new ApiError(f.error_code, f.description, f.retry_after ? { retry_after: f.retry_after } : undefined);
}

// Form-encoded, multipart and query-string calls carry JSON-serialized objects as strings.
const JSON_PARAMS = ['reply_markup', 'entities', 'link_preview_options', 'reply_parameters',
  'commands', 'scope', 'allowed_updates', 'menu_button', 'caption_entities'];
/** A boolean parameter: true in JSON, "true" (or "1") in forms, query strings and multipart. */
const flag = (v) => v === true || v === 'true' || v === 1 || v === '1';

/** A file part of a multipart call: recorded (it shows in /test/calls), its bytes are not kept. */
class UploadedFile {
  constructor(name, file) {
    Object.assign(this, { name, filename: file.name, size: file.size, content_type: file.type || null });
  }
}
/**
 * The fields of a multipart/form-data body (a Buffer from express.raw), parsed by Node's own
 * fetch implementation (Request#formData), so no multipart dependency is needed. Text parts
 * are strings, file parts UploadedFile records.
 */
async function multipartFields(req) {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  let form;
  try {
    form = await new Request('http://front.invalid/', {
      method: 'POST', headers: { 'content-type': req.get('content-type') }, body: raw,
    }).formData();
  } catch {
    throw bad('can\'t parse multipart/form-data body');
  }
  const fields = {};
  for (const [name, value] of form) fields[name] = typeof value === 'string' ? value : new UploadedFile(name, value);
  return fields;
}

async function params(req) {
  const body = req.is('multipart/form-data') ? await multipartFields(req)
    : req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {};
  const p = { ...req.query, ...body };
  for (const key of JSON_PARAMS) {
    if (typeof p[key] === 'string' && /^\s*[[{]/.test(p[key])) {
      try { p[key] = JSON.parse(p[key]); } catch { throw bad(`can't parse ${key} JSON object`); }
    }
  }
  return p;
}

// ---------------------------------------------------------------- HTTP

const app = express();
app.use(express.json({ limit: '10mb' }));
app.use(express.urlencoded({ extended: true, limit: '10mb' }));
app.use(express.raw({ type: 'multipart/form-data', limit: '60mb' })); // Bot API uploads go up to 50 MB

app.all('/bot:token/:method', async (req, res) => {
  const { token, method } = req.params;
  const started = Date.now();
  let status = 200;
  let body;
  try {
    const p = await params(req);
    const name = method.toLowerCase();
    bot(token).calls.push({ method, params: p, at_ms: started });
    const fault = takeFault(token, name, p);
    if (fault) throw fault;
    if (!methods[name]) throw bad(`method "${method}" is not supported by the test front`);
    body = { ok: true, result: await methods[name](token, p) };
  } catch (err) {
    let e = err;
    if (!(e instanceof ApiError)) { log('error in', method, e.stack); e = new ApiError(500, `Internal Server Error: ${e.message}`); }
    status = e.code;
    body = { ok: false, error_code: e.code, description: e.description };
    if (e.parameters) body.parameters = e.parameters;
  }
  res.status(status).json(body);
  if (!quiet) log(method, status, `${Date.now() - started}ms`, body.ok ? '' : body.description);
});

// ---- test-client API (used by the Rust e2e test)

const test = express.Router();
const fail = (res, description) => res.status(400).json({ ok: false, description });
const wrap = (fn) => async (req, res) => {
  try { await fn(req, res); } catch (e) { log('test api error', e.stack); fail(res, e.message); }
};
const CHAT_TYPES = ['private', 'group', 'supergroup'];

/** Remember the user and chat named in a /test/send or /test/press body. */
function introduce(state, b) {
  const userId = Number(b.user_id);
  if (!Number.isSafeInteger(userId) || userId <= 0) throw new Error('user_id must be a positive integer');
  const known = state.users.get(userId);
  const user = { id: userId, is_bot: false, first_name: b.first_name ?? known?.first_name ?? `User ${userId}` };
  for (const key of ['last_name', 'username', 'language_code']) {
    if (b[key] ?? known?.[key]) user[key] = b[key] ?? known[key];
  }
  state.users.set(userId, user);

  const chatId = Number(b.chat_id ?? userId);
  const type = b.chat_type ?? state.chats.get(chatId)?.type ?? inferChatType(chatId);
  if (!CHAT_TYPES.includes(type)) throw new Error(`chat_type must be one of ${CHAT_TYPES.join(', ')}`);
  if (type === 'private' && chatId !== userId) throw new Error('for a private chat chat_id must equal user_id');
  if (type !== 'private' && !(chatId < 0)) throw new Error('group chat ids are negative');
  const chat = type === 'private'
    ? { id: chatId, type, first_name: user.first_name, ...(user.last_name && { last_name: user.last_name }), ...(user.username && { username: user.username }) }
    : { id: chatId, type, title: b.chat_title ?? state.chats.get(chatId)?.title ?? `Test ${type} ${-chatId}` };
  state.chats.set(chatId, chat);
  return { user, chat };
}

test.post('/send', wrap(async (req, res) => {
  const b = req.body;
  if (!b.token || typeof b.text !== 'string') return fail(res, 'token and text are required');
  const state = bot(b.token);
  const { user, chat } = introduce(state, b);
  const message = { botToken: b.token, from: user, chat, date: nowSec(), text: b.text };
  const updateId = emu.updateId; // the emulator assigns these synchronously in add*()
  const messageId = emu.messageId;
  if (b.text.startsWith('/')) {
    const end = b.text.search(/\s/);
    message.entities = [{ type: 'bot_command', offset: 0, length: end < 0 ? b.text.length : end }];
    await emu.addUserCommand(message);
  } else {
    await emu.addUserMessage(message);
  }
  state.userMessages.push({ message_id: messageId, chat_id: chat.id, user_id: user.id, text: b.text, deleted: false });
  res.json({ ok: true, update_id: updateId, message_id: messageId });
}));

test.post('/press', wrap(async (req, res) => {
  const b = req.body;
  if (!b.token || b.data === undefined) return fail(res, 'token and data are required');
  const state = bot(b.token);
  const { user, chat } = introduce(state, b);
  const messageId = Number(b.message_id);
  const meta = state.sent.get(msgKey(chat.id, messageId));
  if (!meta || meta.deleted || !emuBotRecord(b.token, chat.id, messageId)) {
    return fail(res, `no live bot message ${messageId} in chat ${chat.id}`);
  }
  const message = botMessage(b.token, chat.id, messageId);
  const buttons = (message.reply_markup?.inline_keyboard ?? []).flat();
  if (!b.force && !buttons.some((button) => button.callback_data === b.data)) {
    return fail(res, `message ${messageId} has no button with callback_data ${JSON.stringify(b.data)} (pass "force": true to press anyway)`);
  }
  const updateId = emu.updateId;
  const callbackId = String(emu.callbackId);
  await emu.addUserCallback({ botToken: b.token, from: user, message, data: b.data, chat_instance: chatInstance(chat.id) });
  state.callbacks.add(callbackId);
  res.json({ ok: true, update_id: updateId, callback_query_id: callbackId });
}));

test.get('/messages', wrap(async (req, res) => {
  const token = String(req.query.token ?? '');
  const chatId = req.query.chat_id === undefined ? undefined : Number(req.query.chat_id);
  const messages = [...bot(token).sent.values()]
    .filter((m) => chatId === undefined || m.chat_id === chatId)
    .sort((a, b) => a.message_id - b.message_id)
    .map((meta) => {
      const stored = emuBotRecord(token, meta.chat_id, meta.message_id)?.message ?? meta.last;
      return {
        message_id: meta.message_id, chat_id: meta.chat_id, text: stored.text,
        raw_text: meta.raw_text, parse_mode: meta.parse_mode, reply_markup: stored.reply_markup ?? null,
        date: meta.date, received_at_ms: meta.received_at_ms, edited_at_ms: meta.edited_at_ms,
        edit_count: meta.edit_count, deleted: meta.deleted,
      };
    });
  res.json({ ok: true, messages });
}));

test.get('/callback_answers', (req, res) => {
  res.json({ ok: true, answers: bot(String(req.query.token ?? '')).answers });
});

test.get('/user_messages', (req, res) => {
  const chatId = req.query.chat_id === undefined ? undefined : Number(req.query.chat_id);
  const messages = bot(String(req.query.token ?? '')).userMessages
    .filter((m) => chatId === undefined || m.chat_id === chatId);
  res.json({ ok: true, messages });
});

test.get('/calls', (req, res) => {
  const method = req.query.method?.toLowerCase();
  const calls = bot(String(req.query.token ?? '')).calls
    .filter((c) => method === undefined || c.method.toLowerCase() === method);
  res.json({ ok: true, calls });
});

test.post('/set_admins', wrap(async (req, res) => {
  const { token, chat_id: chatId, user_ids: userIds = [] } = req.body;
  if (!token || chatId === undefined) return fail(res, 'token and chat_id are required');
  bot(token).admins.set(Number(chatId), new Set(userIds.map(Number)));
  res.json({ ok: true });
}));

test.post('/inject_error', wrap(async (req, res) => {
  const b = req.body;
  if (!b.token || !b.method) return fail(res, 'token and method are required');
  const code = Number(b.error_code ?? 429);
  const defaults = {
    429: `Too Many Requests: retry after ${b.retry_after ?? 1}`,
    403: 'Forbidden: bot was blocked by the user',
  };
  bot(b.token).faults.push({
    method: String(b.method).toLowerCase(),
    chat_id: b.chat_id === undefined ? undefined : Number(b.chat_id),
    error_code: code,
    description: b.description ?? defaults[code] ?? 'Bad Request: injected error',
    retry_after: code === 429 ? Number(b.retry_after ?? 1) : b.retry_after,
    times: Number(b.times ?? 1), // 0 or less: until reset
  });
  res.json({ ok: true });
}));

test.post('/reset', (req, res) => {
  const token = req.body?.token;
  const keep = (u) => token !== undefined && u.botToken !== token;
  // Counters (update_id, message_id) are not reset: the bot's getUpdates offset must stay valid.
  emu.storage.userMessages = emu.storage.userMessages.filter(keep);
  emu.storage.botMessages = emu.storage.botMessages.filter(keep);
  // The webhook is the bot's setting, not test data: it survives the reset (its queue does not).
  for (const t of token === undefined ? [...bots.keys()] : [token]) {
    const hook = bots.get(t)?.webhook;
    bots.delete(t);
    if (hook) bot(t).webhook = hook;
  }
  res.json({ ok: true });
});

app.use('/test', test);
app.use((req, res) => res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' }));
// Body parser errors (bad JSON) and anything else express catches.
app.use((err, req, res, _next) => {
  const code = err.status >= 400 && err.status < 500 ? err.status : 500;
  res.status(code).json({ ok: false, error_code: code, description: `${code === 500 ? 'Internal Server Error' : 'Bad Request'}: ${err.message}` });
});

const front = app.listen(Number(process.env.FRONT_PORT ?? 0), HOST, () => {
  // Keep idle keep-alive connections longer than reqwest's 90 s pool timeout, so
  // the server never closes a socket the bot is about to reuse.
  front.keepAliveTimeout = 100_000;
  front.headersTimeout = 105_000;
  const url = `http://${HOST}:${front.address().port}`;
  log(`front ${url}, telegram-test-api ${emuUrl}`);
  process.stdout.write(`READY ${JSON.stringify({ url })}\n`);
});
front.on('error', (e) => { log('cannot listen:', e.message); process.exit(1); });

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
process.on('unhandledRejection', (e) => log('unhandled rejection:', e?.stack ?? e));
