import type { WebSocket } from 'ws'
import type { ChatMessage } from './protocol'

/** One connected socket and the rooms it joined. */
export interface Client {
  readonly ws: WebSocket
  readonly userId: string
  readonly rooms: Set<string>
  /** Frames of this client are handled in order: each one waits for the previous. */
  chain: Promise<void>
  /** Frames waiting in `chain`. */
  queued: number
  /** Whether the socket answered the last ping. */
  alive: boolean
}

/** One room: who is in it and its last messages. */
export interface Room {
  readonly name: string
  readonly members: Set<Client>
  readonly recent: ChatMessage[]
}

/** Frames above this many buffered bytes are not sent to a slow socket (counted as dropped). */
const MAX_BUFFERED = 4 * 1024 * 1024

/**
 * The rooms in memory, bounded: at most `maxRooms` rooms, each keeping its last `historySize`
 * messages; a room disappears with its last member.
 *
 * @example
 * const rooms = new Rooms({ maxRooms: 1_000, historySize: 50 })
 * rooms.join(client, 'lobby')
 * rooms.broadcast('lobby', JSON.stringify(message))
 */
export class Rooms {
  readonly #rooms = new Map<string, Room>()
  readonly #maxRooms: number
  readonly #historySize: number
  delivered = 0
  dropped = 0

  constructor(options: { maxRooms: number; historySize: number }) {
    this.#maxRooms = options.maxRooms
    this.#historySize = options.historySize
  }

  /** Rooms in memory. */
  get size(): number {
    return this.#rooms.size
  }

  get(name: string): Room | undefined {
    return this.#rooms.get(name)
  }

  /** Whether a new room can still be opened. */
  get full(): boolean {
    return this.#rooms.size >= this.#maxRooms
  }

  /** Adds `client` to the room (opening it); returns the room, or undefined when the room limit is reached. */
  join(client: Client, name: string, history: () => ChatMessage[] = () => []): Room | undefined {
    let room = this.#rooms.get(name)
    if (room === undefined) {
      if (this.full) return undefined
      room = { name, members: new Set(), recent: history().slice(-this.#historySize) }
      this.#rooms.set(name, room)
    }
    room.members.add(client)
    client.rooms.add(name)
    return room
  }

  /** Removes `client` from the room; the room closes when it was the last member. */
  leave(client: Client, name: string): Room | undefined {
    const room = this.#rooms.get(name)
    client.rooms.delete(name)
    if (room === undefined) return undefined
    room.members.delete(client)
    if (room.members.size === 0) this.#rooms.delete(name)
    return room
  }

  /** Remembers a message in the room's bounded history. */
  remember(room: Room, message: ChatMessage): void {
    room.recent.push(message)
    if (room.recent.length > this.#historySize) room.recent.shift()
  }

  /** Sends one already-serialised frame to every open member of the room. */
  broadcast(room: Room, frame: string, except?: Client): void {
    for (const member of room.members) {
      if (member === except) continue
      const ws = member.ws
      if (ws.readyState !== ws.OPEN) continue
      if (ws.bufferedAmount > MAX_BUFFERED) {
        this.dropped++
        continue
      }
      ws.send(frame)
      this.delivered++
    }
  }

  /** Distinct user ids in the room. */
  members(room: Room): string[] {
    return [...new Set([...room.members].map((m) => m.userId))]
  }
}
