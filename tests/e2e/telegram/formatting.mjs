// parse_mode handling for the test front, modelled on the real Bot API (tdlib's
// parse_html / parse_markdown_v2): turn the text the bot sent into the plain text
// a user would see, or reject it with the same 400 error text Telegram gives.
// telegram-test-api stores the raw text and accepts anything, so a bot that sends
// unescaped "<" in HTML or an unescaped "." in MarkdownV2 would pass e2e tests
// and then fail in production. Entities are not computed (teloxide does not need them).

/** Thrown for text Telegram would refuse; `message` is the part after "can't parse entities: ". */
export class ParseError extends Error {}

const byteOffset = (src, i) => Buffer.byteLength(src.slice(0, i), 'utf8');

/** Render `text` for `parseMode` (undefined/null = plain text). Throws ParseError. */
export function renderText(text, parseMode) {
  if (parseMode == null || parseMode === '') return text;
  switch (String(parseMode).toLowerCase()) {
    case 'html': return parseHtml(text);
    case 'markdownv2': return parseMarkdown(text, true);
    case 'markdown': return parseMarkdown(text, false);
    default: throw new ParseError(`Unsupported parse_mode "${parseMode}"`);
  }
}

const HTML_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span',
  'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji']);
const HTML_ENTITY = /^&(lt|gt|amp|quot|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/;
const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"' };

function parseHtml(src) {
  let out = '';
  const open = []; // names of the tags still open, innermost last
  for (let i = 0; i < src.length;) {
    const c = src[i];
    if (c === '&') { // only these entities are decoded; any other "&" is literal
      const m = HTML_ENTITY.exec(src.slice(i, i + 12));
      if (m) {
        out += NAMED[m[1]] ?? String.fromCodePoint(m[2] ? Number(m[2]) : parseInt(m[3], 16));
        i += m[0].length;
      } else { out += c; i++; }
      continue;
    }
    if (c !== '<') { out += c; i++; continue; }
    const at = byteOffset(src, i);
    const end = src.indexOf('>', i);
    const inner = end < 0 ? src.slice(i + 1) : src.slice(i + 1, end);
    if (inner.startsWith('/')) {
      if (!open.length) throw new ParseError(`Unexpected end tag at byte offset ${at}`);
      if (end < 0) throw new ParseError(`Unclosed end tag at byte offset ${at}`);
      const name = inner.slice(1).trim().toLowerCase();
      const expected = open.pop();
      if (name !== expected) {
        throw new ParseError(`Unmatched end tag at byte offset ${at}, expected "</${expected}>", found "</${name}>"`);
      }
    } else {
      // Like tdlib: the name runs to a space or ">"; it is checked before looking for ">".
      const rawName = /^[^\s>]*/.exec(inner)[0];
      const name = rawName.toLowerCase();
      if (end < 0 && rawName.length === inner.length) throw new ParseError(`Unclosed start tag at byte offset ${at}`);
      if (!HTML_TAGS.has(name)) throw new ParseError(`Unsupported start tag "${name}" at byte offset ${at}`);
      if (end < 0) throw new ParseError(`Unclosed start tag at byte offset ${at}`);
      if (name === 'span' && !/class\s*=\s*["']?tg-spoiler/i.test(inner)) {
        throw new ParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`);
      }
      open.push(name);
    }
    i = end + 1;
  }
  if (open.length) throw new ParseError(`Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return out;
}

const V2_RESERVED = '_*[]()~`>#+-=|{}.!';
const V2_NAMES = { '*': 'Bold', '_': 'Italic', '__': 'Underline', '~': 'Strikethrough', '||': 'Spoiler', '[': 'TextUrl' };

// MarkdownV2 (v2=true) or legacy Markdown (v2=false). Formatting markers are
// dropped, "\x" escapes are resolved, code/pre bodies are kept verbatim.
function parseMarkdown(src, v2) {
  let out = '';
  const open = []; // { marker, at } innermost last
  const unclosed = (marker, at) => new ParseError(v2
    ? `Can't find end of ${V2_NAMES[marker] ?? (marker === '`' ? 'Code' : 'Pre')} entity at byte offset ${at}`
    : `Can't find end of the entity starting at byte offset ${at}`);
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const next = src[i + 1];
    // Escapes: any ASCII char in V2, only _*`[ in legacy Markdown.
    if (c === '\\' && next !== undefined && (v2 ? next.charCodeAt(0) <= 126 : '_*`['.includes(next))) {
      out += next; i++; continue;
    }
    if (c === '`') { // inline code or ``` pre block: copied verbatim up to the closing fence
      const fence = src.startsWith('```', i) ? '```' : '`';
      const at = byteOffset(src, i);
      let j = i + fence.length;
      if (fence === '```') { const lang = /^[^\s`]*\n/.exec(src.slice(j)); if (lang) j += lang[0].length; }
      let body = '';
      for (; j < src.length && !src.startsWith(fence, j); j++) {
        if (v2 && src[j] === '\\' && j + 1 < src.length) j++;
        body += src[j];
      }
      if (j >= src.length) throw unclosed(fence, at);
      out += body; i = j + fence.length - 1; continue;
    }
    if (c === '[') { open.push({ marker: '[', at: byteOffset(src, i) }); continue; }
    if (c === ']' && open.at(-1)?.marker === '[') {
      open.pop();
      if (next === '(') { // skip "(url)"; inside it only ")" and "\" need escaping
        let j = i + 2;
        while (j < src.length && src[j] !== ')') j += src[j] === '\\' ? 2 : 1;
        if (j >= src.length) throw new ParseError(`Can't find end of a url at byte offset ${byteOffset(src, i + 1)}`);
        i = j;
      }
      continue;
    }
    const markers = v2 ? '*_~|' : '*_';
    if (markers.includes(c) && (c !== '|' || next === '|')) {
      let marker = c;
      if (v2 && (c === '_' || c === '|') && next === c) { marker = c + c; i++; }
      if (open.at(-1)?.marker === marker) open.pop();
      else open.push({ marker, at: byteOffset(src, i - marker.length + 1) });
      continue;
    }
    if (v2 && c === '>' && (i === 0 || src[i - 1] === '\n')) continue; // block quote line
    if (v2 && V2_RESERVED.includes(c)) {
      throw new ParseError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
    }
    out += c;
  }
  if (open.length) { const { marker, at } = open.at(-1); throw unclosed(marker, at); }
  return out;
}
