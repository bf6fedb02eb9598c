/** A chat completion request body (the parts the router reads). */
export interface ChatRequest {
  model: string
  messages: { role: string; content: string }[]
}

/** The 400 answer's message for a body that {@link isChatRequest} refuses. */
export const BAD_CHAT_REQUEST = 'Expected a JSON body with `model` and a non-empty `messages` array.'

/**
 * Whether a parsed JSON body is a chat request the router can route: a string `model` and a
 * non-empty `messages` array.
 *
 * @example
 * ```ts
 * if (!isChatRequest(request.body)) return reply.code(400).send({ error: { message: BAD_CHAT_REQUEST } })
 * ```
 */
export function isChatRequest(body: unknown): body is ChatRequest {
  if (typeof body !== 'object' || body === null) return false
  const { model, messages } = body as Partial<Record<keyof ChatRequest, unknown>>
  return typeof model === 'string' && Array.isArray(messages) && messages.length > 0
}
