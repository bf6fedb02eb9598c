/** What {@link renderMessage} returns. */
export interface RenderedMessage {
  /** The text with blocked words replaced by asterisks. */
  text: string
  /** The text as HTML: escaped, with links and `**bold**`, `*italic*`, `` `code` `` marked up. */
  html: string
  /** Hosts of the links found, in order. */
  links: string[]
  /** Blocked words masked. */
  masked: number
  /** More links than a chat message normally has. */
  linkSpam: boolean
}

/**
 * Masks blocked words, finds links and renders a small markdown subset as escaped HTML.
 *
 * @example
 * const { html, links } = renderMessage('see **this**: https://example.com/a')
 */
export function renderMessage(input: string): RenderedMessage
export default renderMessage
