/** What a browser or load client sends over the WebSocket. */
export type ClientMessage =
  | { type: 'join'; room: string }
  | { type: 'leave'; room: string }
  /** `ref` is echoed back with the broadcast or the error, so a client can match its own messages. */
  | { type: 'message'; room: string; text: string; ref?: string }

/** A message as it is broadcast to a room. */
export interface ChatMessage {
  type: 'message'
  room: string
  user: { id: string; name: string; color: string }
  /** The text as sent, blocked words masked. */
  text: string
  /** `text` rendered as HTML (escaped; links, bold, italic, code). */
  html: string
  at: number
  ref?: string
}

/** Stable error codes sent as `{ type: 'error', code }`. */
export type ErrorCode =
  | 'RATE_LIMITED'
  | 'BAD_REQUEST'
  | 'NOT_IN_ROOM'
  | 'ROOM_LIMIT'
  | 'BUSY'
  | 'UNKNOWN_USER'
  | 'INTERNAL'

/** What the server sends. */
export type ServerMessage =
  | { type: 'welcome'; user: { id: string; name: string; color: string } }
  | { type: 'joined'; room: string; members: string[]; history: ChatMessage[] }
  | { type: 'left'; room: string }
  /** `members`: the user ids in the room after the change. */
  | { type: 'presence'; room: string; user: string; event: 'join' | 'leave'; members: string[] }
  | ChatMessage
  | { type: 'error'; code: ErrorCode; message: string; retryAfterMs?: number; ref?: string }

const ROOM = /^[\w.-]{1,40}$/
/** A user name: letters, digits, `_`, `.`, `-`; 1 to 32 characters. */
export const USER = /^[\w.-]{1,32}$/
/** Longest message text accepted, in characters. */
export const MAX_TEXT = 2_000

/**
 * Parses and validates one client frame; returns an error string for a bad one.
 *
 * @example
 * const parsed = parseClientMessage('{"type":"join","room":"lobby"}')
 */
export function parseClientMessage(raw: string): ClientMessage | string {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return 'Frames must be JSON.'
  }
  if (value === null || typeof value !== 'object') return 'Frames must be JSON objects.'
  const frame = value as Record<string, unknown>
  const room = frame.room
  if (typeof room !== 'string' || !ROOM.test(room)) {
    return 'Expected `room`: 1 to 40 letters, digits, `_`, `.` or `-`.'
  }
  switch (frame.type) {
    case 'join':
    case 'leave':
      return { type: frame.type, room }
    case 'message': {
      const text = frame.text
      if (typeof text !== 'string' || text.trim().length === 0 || text.length > MAX_TEXT) {
        return `Expected \`text\`: a non-empty string of at most ${MAX_TEXT} characters.`
      }
      const ref = frame.ref
      if (ref !== undefined && (typeof ref !== 'string' || ref.length > 64)) {
        return 'Expected `ref` to be a string of at most 64 characters.'
      }
      return ref === undefined ? { type: 'message', room, text } : { type: 'message', room, text, ref }
    }
    default:
      return "Expected `type` to be 'join', 'leave' or 'message'."
  }
}
