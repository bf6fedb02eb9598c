import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { type RedisServer, startRedis } from './redis-server'

const run = promisify(execFile)

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Number of master nodes (>= 3, as Redis Cluster requires). @default 3 */
  masters?: number
  /** Milliseconds to wait for `cluster_state:ok`. @default 20_000 */
  startTimeout?: number
}

/** A real Redis Cluster of `redis-server --cluster-enabled yes` processes. */
export interface RedisCluster {
  readonly nodes: RedisServer[]
  /** Seeds for ioredis `new Cluster(startupNodes)`. */
  readonly startupNodes: { host: string; port: number }[]
  /** Stops every node. */
  stop(): Promise<void>
}

async function clusterState(server: RedisServer): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', server.host, '-p', String(server.port), 'cluster', 'info'])
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown'
}

/**
 * Builds a real Redis Cluster: starts `masters` servers in cluster mode and joins them with
 * `redis-cli --cluster create`, then waits until every node reports `cluster_state:ok`.
 *
 * @example
 * const cluster = await startRedisCluster({ masters: 3 })
 * const client = new Cluster(cluster.startupNodes)
 * await cluster.stop()
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3
  if (!Number.isInteger(masters) || masters < 3) {
    throw new TypeError(`Expected \`masters\` to be an integer >= 3, got \`${masters}\` (${typeof masters})`)
  }
  const timeout = options.startTimeout ?? 20_000
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      )
    }
    const addresses = nodes.map((n) => `${n.host}:${n.port}`)
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    const started = Date.now()
    for (;;) {
      const states = await Promise.all(nodes.map(clusterState))
      if (states.every((s) => s === 'ok')) break
      if (Date.now() - started > timeout)
        throw new Error(`cluster not ok within ${timeout} ms: ${states.join(',')}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()))
    throw error
  }
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}
