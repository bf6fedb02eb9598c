import net from 'node:net'

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/**
 * Finds a free TCP port on 127.0.0.1. With `busOffset`, `port + busOffset` is free too (Redis
 * Cluster listens on port + 10000 for its bus).
 *
 * @example
 * const port = await freePort({ busOffset: 10_000 })
 */
export async function freePort(options: { busOffset?: number } = {}): Promise<number> {
  const { busOffset } = options
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if (!(await isFree(port))) continue
    if (busOffset !== undefined && !(await isFree(port + busOffset))) continue
    return port
  }
  throw new Error('no free port found after 200 attempts')
}
