// Message rendering of the chat room: masks blocked words, finds links and turns a small
// markdown subset into HTML. Plain JavaScript so it runs both on the main thread (short messages)
// and as the worker-pool module (long ones): its default export is what a worker thread calls.

/** Words replaced by asterisks, whole words only, any case. */
const BLOCKED = ['damn', 'crap', 'bollocks', 'bugger', 'frak', 'smeg']
const BLOCKED_WORD = new RegExp(`\\b(?:${BLOCKED.join('|')})\\b`, 'gi')
const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"']+/gi
/** More links than this in one message marks it as `linkSpam`. */
const MAX_LINKS = 5

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ESCAPES[c])

/** The URL if `candidate` is a well-formed http(s) URL (trailing punctuation dropped), else undefined. */
function parseLink(candidate) {
  const trimmed = candidate.replace(/[.,;:!?)\]]+$/, '')
  try {
    const url = new URL(trimmed)
    return url.protocol === 'http:' || url.protocol === 'https:' ? { raw: trimmed, url } : undefined
  } catch {
    return undefined
  }
}

/** `**bold**`, `*italic*`, `_italic_` and `` `code` `` on already escaped text without links. */
function inline(escaped) {
  const parts = escaped.split(/(`[^`\n]+`)/)
  return parts
    .map((part) =>
      part.length > 2 && part.startsWith('`') && part.endsWith('`')
        ? `<code>${part.slice(1, -1)}</code>`
        : part
            .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')
            .replace(/(^|[\s(])[*_]([^*_\n]+)[*_](?=$|[\s).,!?])/g, '$1<em>$2</em>'),
    )
    .join('')
    .replace(/\n/g, '<br>')
}

/**
 * Renders one message: `text` with blocked words masked, `html` (safe to insert: every character
 * of the input is escaped before the markup is added), the links' hosts, and two flags.
 *
 * @example
 * renderMessage('see **this**: https://example.com/a') // { html: 'see <strong>this</strong>: <a …>', links: ['example.com'], … }
 */
export function renderMessage(input) {
  let masked = 0
  const text = input.replace(BLOCKED_WORD, (word) => {
    masked++
    return '*'.repeat(word.length)
  })
  const links = []
  let html = ''
  let last = 0
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const link = parseLink(match[0])
    if (link === undefined) continue
    links.push(link.url.host)
    html += inline(escapeHtml(text.slice(last, match.index)))
    const href = escapeHtml(link.url.href)
    html += `<a href="${href}" rel="nofollow noopener noreferrer" target="_blank">${escapeHtml(link.raw)}</a>`
    last = match.index + link.raw.length
  }
  html += inline(escapeHtml(text.slice(last)))
  return { text, html, links, masked, linkSpam: links.length > MAX_LINKS }
}

export default renderMessage
