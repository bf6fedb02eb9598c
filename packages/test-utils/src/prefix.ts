import { randomBytes } from 'node:crypto'

let counter = 0

/**
 * A Redis key prefix unique to this test, so suites never touch each other's keys (and nobody
 * needs FLUSHALL on a shared server).
 *
 * @example
 * const prefix = uniquePrefix('cache')   // 'hp:test:cache:4242:1:9f3a1c:'
 */
export function uniquePrefix(label = 't'): string {
  counter++
  return `hp:test:${label}:${process.pid}:${counter}:${randomBytes(3).toString('hex')}:`
}

/** The subset of an ioredis `Redis` used to drop keys. */
interface ScanClient {
  // biome-ignore lint/suspicious/noExplicitAny: matches ioredis' overloaded scan/unlink signatures
  scan(...args: any[]): Promise<[string, string[]]>
  // biome-ignore lint/suspicious/noExplicitAny: see above
  unlink(...args: any[]): Promise<number>
}

/** The subset of an ioredis `Cluster` used to reach every master. */
interface ClusterLike {
  nodes(role: 'master'): ScanClient[]
}

/**
 * Deletes every key under `prefix` (SCAN + UNLINK; on a cluster, on every master).
 *
 * @example
 * afterAll(() => dropRedisPrefix(client, prefix))
 */
export async function dropRedisPrefix(client: ScanClient | ClusterLike, prefix: string): Promise<number> {
  const targets =
    'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as ScanClient]
  let dropped = 0
  for (const node of targets) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) dropped += await node.unlink(key)
    } while (cursor !== '0')
  }
  return dropped
}
