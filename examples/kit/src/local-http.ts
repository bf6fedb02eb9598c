import type http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Sends `payload` as a JSON response.
 *
 * @example
 * sendJson(res, 404, { error: 'not found' })
 */
export function sendJson(res: http.ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * Listens on a free loopback port; resolves to the base URL and a `close()` that also drops
 * keep-alive connections (so a test's shutdown never waits for idle sockets).
 *
 * @example
 * const { url, close } = await listenLocal(http.createServer(handler))
 */
export async function listenLocal(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
