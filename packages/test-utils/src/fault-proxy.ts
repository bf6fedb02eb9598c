import net from 'node:net'

/** What the proxy does with traffic. */
export type FaultMode = 'pass' | 'cut' | 'black-hole'

/** A TCP proxy in front of a real service that can delay, cut or black-hole its traffic. */
export interface FaultProxy {
  readonly host: string
  readonly port: number
  /** `redis://host:port` style URL with the target's scheme, when the target was given as a URL. */
  readonly url: string | undefined
  /** Current mode. */
  readonly mode: FaultMode
  /** Added one-way delay per chunk, in ms. */
  readonly delay: number
  /** Open client connections. */
  readonly connections: number
  /** Forwards traffic normally (latency 0). Connections that were black-holed are closed. */
  pass(): void
  /** Forwards traffic with `ms` added in each direction. */
  latency(ms: number): void
  /** Destroys every open connection and refuses new ones (they are closed at once) until `pass()`. */
  cut(): void
  /** Accepts connections but never forwards nor answers anything, like a hung server. */
  blackHole(): void
  /** Closes every connection and the listener. */
  close(): Promise<void>
}

interface Link {
  client: net.Socket
  upstream: net.Socket | undefined
  blackHoled: boolean
}

/**
 * Starts a TCP proxy on a free port of 127.0.0.1 in front of `target`.
 *
 * @example
 * const proxy = await faultProxy({ host: '127.0.0.1', port: 6379 })
 * const client = new Redis(proxy.port)
 * proxy.blackHole()   // commands now hang
 * proxy.pass()
 * await proxy.close()
 */
export async function faultProxy(target: { host: string; port: number } | string): Promise<FaultProxy> {
  const parsed = typeof target === 'string' ? new URL(target) : undefined
  const targetHost = parsed ? parsed.hostname : (target as { host: string }).host
  const targetPort = parsed ? Number(parsed.port) : (target as { port: number }).port
  let mode: FaultMode = 'pass'
  let delay = 0
  const links = new Set<Link>()

  function destroy(link: Link): void {
    link.client.destroy()
    link.upstream?.destroy()
    links.delete(link)
  }

  function forward(link: Link, from: net.Socket, to: () => net.Socket | undefined): void {
    let lastAt = 0
    from.on('data', (chunk: Buffer) => {
      if (mode === 'black-hole') {
        link.blackHoled = true
        return
      }
      const write = () => {
        const socket = to()
        if (socket && !socket.destroyed) socket.write(chunk)
      }
      if (delay <= 0) {
        write()
        return
      }
      const now = Date.now()
      const at = Math.max(now + delay, lastAt)
      lastAt = at
      setTimeout(write, at - now)
    })
  }

  const server = net.createServer((client) => {
    const link: Link = { client, upstream: undefined, blackHoled: false }
    links.add(link)
    client.on('error', () => destroy(link))
    client.on('close', () => destroy(link))
    if (mode === 'cut') {
      destroy(link)
      return
    }
    if (mode === 'black-hole') {
      link.blackHoled = true
      client.on('data', () => {})
      return
    }
    const upstream = net.connect({ host: targetHost, port: targetPort })
    link.upstream = upstream
    upstream.on('error', () => destroy(link))
    upstream.on('close', () => destroy(link))
    forward(link, client, () => link.upstream)
    forward(link, upstream, () => link.client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const url = parsed
    ? `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}127.0.0.1:${port}${parsed.pathname}`
    : undefined

  return {
    host: '127.0.0.1',
    port,
    url,
    get mode() {
      return mode
    },
    get delay() {
      return delay
    },
    get connections() {
      return links.size
    },
    pass() {
      mode = 'pass'
      delay = 0
      for (const link of [...links]) if (link.blackHoled || !link.upstream) destroy(link)
    },
    latency(ms) {
      mode = 'pass'
      delay = ms
    },
    cut() {
      mode = 'cut'
      for (const link of [...links]) destroy(link)
    },
    blackHole() {
      mode = 'black-hole'
    },
    async close() {
      for (const link of [...links]) destroy(link)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
