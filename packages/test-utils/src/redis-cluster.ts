import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { type RedisServer, startRedis } from './redis-server'

const run = promisify(execFile)

/**
 * Options of {@link startRedisCluster}.
 *
 * @example
 * const options: StartRedisClusterOptions = { masters: 3, replicas: 1, nodeTimeout: 1_000 }
 */
export interface StartRedisClusterOptions {
  /** Number of master nodes (>= 3, as Redis Cluster requires). @default 3 */
  masters?: number
  /** Replicas per master (each a `redis-server` of its own). @default 0 */
  replicas?: number
  /**
   * `cluster-node-timeout` in milliseconds: how long a master may be unreachable before it is
   * marked failed and a replica takes over. Lower values make failover tests faster.
   * @default 2_000
   */
  nodeTimeout?: number
  /** Milliseconds to wait for `cluster_state:ok` (and every replica in sync). @default 20_000 */
  startTimeout?: number
}

/**
 * One node as `CLUSTER NODES` describes it.
 *
 * @example
 * const masters = (await cluster.topology()).filter((node: RedisClusterNode) => node.role === 'master')
 */
export interface RedisClusterNode {
  readonly server: RedisServer
  readonly id: string
  readonly role: 'master' | 'replica'
  /** Node id of the master (replicas only). */
  readonly masterId: string | undefined
  /** Slot ranges served, `[first, last]` (masters only). */
  readonly slots: [number, number][]
}

/**
 * What {@link RedisCluster.failover} observed.
 *
 * @example
 * const { killed, promoted, tookMs }: RedisFailover = await cluster.failover('user:42')
 */
export interface RedisFailover {
  /** The master that was killed. */
  readonly killed: RedisServer
  /** The replica that took over its slots. */
  readonly promoted: RedisServer
  /** Milliseconds from the SIGKILL until every live node reported `cluster_state:ok` with the replica serving the slots. */
  readonly tookMs: number
  /**
   * True when the cluster's own election had not promoted a replica within
   * {@link RedisFailoverOptions.electionTimeout} and the replica was told to take over
   * (`CLUSTER FAILOVER TAKEOVER`), as an operator would.
   */
  readonly forced: boolean
}

/**
 * Options of {@link RedisCluster.failover}.
 *
 * @example
 * const options: RedisFailoverOptions = { timeout: 10_000, onKilled: ([replica]) => readFrom(replica) }
 */
export interface RedisFailoverOptions {
  /** Milliseconds to wait for a replica to take over. @default 30_000 */
  timeout?: number
  /**
   * Milliseconds to wait for the cluster's own election before the replica is told to take over
   * with `CLUSTER FAILOVER TAKEOVER`. On a loaded machine an election can stall past its retries;
   * the test then goes on with the failover it is about instead of failing on the cluster's vote.
   * @default 10_000
   */
  electionTimeout?: number
  /**
   * Called right after the SIGKILL with the killed master's replicas, before any is promoted: what
   * a replica holds then is exactly what the cluster keeps of the master's writes.
   */
  onKilled?: (replicas: RedisServer[]) => unknown
}

/**
 * A real Redis Cluster of `redis-server --cluster-enabled yes` processes.
 *
 * @example
 * const cluster: RedisCluster = await startRedisCluster({ replicas: 1 })
 * await cluster.failover(0) // the master serving the lowest slots
 * await cluster.recover() // the killed node rejoins as a replica
 */
export interface RedisCluster {
  /** Every server started, masters and replicas (a killed one stays in the list, not running). */
  readonly nodes: RedisServer[]
  /** Seeds for ioredis `new Cluster(startupNodes)`. */
  readonly startupNodes: { host: string; port: number }[]
  /** The current topology, read from a live node. */
  topology(): Promise<RedisClusterNode[]>
  /** The master serving `key` now (its hash slot, hash tags included). */
  masterOf(key: string): Promise<RedisServer>
  /**
   * SIGKILLs the master serving `key` (or the master at `index` among the current masters,
   * ordered by first slot) and resolves once a replica serves its slots and every live node
   * reports `cluster_state:ok`. Needs `replicas >= 1`.
   */
  failover(target: string | number, options?: RedisFailoverOptions): Promise<RedisFailover>
  /**
   * Restarts every killed node (it rejoins as a replica of the master that replaced it) and
   * resolves once every replica is in sync, so a later {@link RedisCluster.failover} has one to promote.
   */
  recover(options?: { timeout?: number }): Promise<void>
  /** Stops every node. */
  stop(): Promise<void>
}

async function cli(server: RedisServer, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', server.host, '-p', String(server.port), ...args])
  return stdout
}

async function clusterState(server: RedisServer): Promise<string> {
  const stdout = await cli(server, 'cluster', 'info').catch(() => '')
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown'
}

function parseNodes(text: string, servers: RedisServer[]): RedisClusterNode[] {
  const out: RedisClusterNode[] = []
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ')
    if (parts.length < 8) continue
    const [id, address, flags, master] = parts as [string, string, string, string]
    if (flags.includes('fail') && !flags.includes('fail?') && !flags.includes('myself')) continue
    const port = Number(/:(\d+)/.exec(address)?.[1])
    const server = servers.find((s) => s.port === port)
    if (!server?.running) continue
    const slots: [number, number][] = []
    for (const range of parts.slice(8)) {
      if (range.startsWith('[')) continue
      const [a, b] = range.split('-')
      slots.push([Number(a), Number(b ?? a)])
    }
    const role = flags.includes('master') ? 'master' : 'replica'
    out.push({ server, id, role, masterId: role === 'replica' ? master : undefined, slots })
  }
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Builds a real Redis Cluster: starts `masters × (1 + replicas)` servers in cluster mode, joins
 * them with `redis-cli --cluster create --cluster-replicas <replicas>`, then waits until every
 * node reports `cluster_state:ok` and every replica is in sync with its master.
 *
 * @example
 * const cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeout: 1_000 })
 * const client = new Cluster(cluster.startupNodes)
 * const { tookMs } = await cluster.failover('user:42') // SIGKILL its master, replica promoted
 * await cluster.stop()
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3
  if (!Number.isInteger(masters) || masters < 3) {
    throw new TypeError(`Expected \`masters\` to be an integer >= 3, got \`${masters}\` (${typeof masters})`)
  }
  const replicas = options.replicas ?? 0
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new TypeError(
      `Expected \`replicas\` to be an integer >= 0, got \`${replicas}\` (${typeof replicas})`,
    )
  }
  const nodeTimeout = options.nodeTimeout ?? 2_000
  if (!Number.isInteger(nodeTimeout) || nodeTimeout < 100) {
    throw new TypeError(
      `Expected \`nodeTimeout\` to be an integer >= 100, got \`${nodeTimeout}\` (${typeof nodeTimeout})`,
    )
  }
  const timeout = options.startTimeout ?? 20_000
  const nodes: RedisServer[] = []

  const live = () => nodes.filter((n) => n.running)
  const topology = async (): Promise<RedisClusterNode[]> => {
    for (const server of live()) {
      const text = await cli(server, 'cluster', 'nodes').catch(() => undefined)
      if (text) return parseNodes(text, nodes)
    }
    throw new Error('no live cluster node answered CLUSTER NODES')
  }
  /** Until every live node says ok, every slot is served by a live master and replicas are in sync. */
  const settled = async (deadline: number, what: string, extra?: (t: RedisClusterNode[]) => boolean) => {
    for (;;) {
      const states = await Promise.all(live().map(clusterState))
      if (states.every((s) => s === 'ok')) {
        const t = await topology().catch(() => [])
        const synced = await Promise.all(
          t
            .filter((n) => n.role === 'replica')
            .map(async (n) => /master_link_status:up/.test(await cli(n.server, 'info', 'replication'))),
        )
        if (synced.every(Boolean) && (extra === undefined || extra(t))) return
      }
      if (Date.now() > deadline) throw new Error(`${what} within the time allowed: ${states.join(',')}`)
      await sleep(50)
    }
  }

  try {
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']
    args.push('--cluster-node-timeout', String(nodeTimeout))
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startRedis({ args }))
    const addresses = nodes.map((n) => `${n.host}:${n.port}`)
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ])
    await settled(Date.now() + timeout, 'cluster not ok', (t) => t.length === nodes.length)
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()))
    throw error
  }

  const masterOf = async (key: string): Promise<RedisServer> => {
    const slot = Number((await cli(live()[0]!, 'cluster', 'keyslot', key)).trim())
    const owner = (await topology()).find(
      (n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b),
    )
    if (!owner) throw new Error(`no master serves slot ${slot}`)
    return owner.server
  }

  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
    topology,
    masterOf,
    async failover(target, opts = {}) {
      const t = await topology()
      const current = t
        .filter((n) => n.role === 'master' && n.slots.length > 0)
        .sort((a, b) => a.slots[0]![0] - b.slots[0]![0])
      const owner = typeof target === 'number' ? undefined : await masterOf(target)
      const master = typeof target === 'number' ? current[target] : current.find((n) => n.server === owner)
      if (!master) throw new Error(`no master for ${String(target)}`)
      if (!t.some((n) => n.masterId === master.id)) throw new Error('the master has no replica to promote')
      const firstSlot = master.slots[0]![0]
      const started = Date.now()
      await master.server.kill()
      const replicas = t.filter((n) => n.masterId === master.id).map((n) => n.server)
      await opts.onKilled?.(replicas)
      let promoted: RedisServer | undefined
      const tookOver = (after: RedisClusterNode[]) => {
        const owner = after.find(
          (n) => n.role === 'master' && n.slots.some(([a, b]) => firstSlot >= a && firstSlot <= b),
        )
        promoted = owner && owner.server !== master.server ? owner.server : undefined
        return promoted !== undefined
      }
      const deadline = started + (opts.timeout ?? 30_000)
      const electionDeadline = Math.min(deadline, started + (opts.electionTimeout ?? 10_000))
      let forced = false
      try {
        await settled(electionDeadline, 'no replica took over', tookOver)
      } catch (error) {
        if (Date.now() >= deadline) throw error
        forced = true
        const replica = replicas[0]!
        await cli(replica, 'cluster', 'failover', 'takeover')
        await settled(deadline, 'no replica took over, even with CLUSTER FAILOVER TAKEOVER', tookOver)
      }
      return { killed: master.server, promoted: promoted!, tookMs: Date.now() - started, forced }
    },
    async recover(opts = {}) {
      for (const server of nodes) if (!server.running) await server.restart()
      await settled(
        Date.now() + (opts.timeout ?? 30_000),
        'killed nodes did not rejoin',
        (t) => t.length === nodes.length,
      )
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}

/**
 * Whether the failover tests (a master SIGKILLed and its replica promoted) run: always outside CI,
 * and in CI only with `HOTPATH_FAILOVER_TESTS=1`. Under the CI run's parallel load a promotion can
 * take longer than those tests' time bounds allow, so CI runs them only on request.
 *
 * @example
 * describe.runIf(failoverTestsEnabled())('failover', () => {})
 */
export function failoverTestsEnabled(): boolean {
  return process.env.CI !== 'true' || process.env.HOTPATH_FAILOVER_TESTS === '1'
}

/**
 * ioredis `Cluster` options for failover tests, as the cache and concurrency READMEs recommend:
 * writes and scripts go to masters (a replica could answer with state it has not got yet), and no
 * retries inside ioredis, so a command a primitive gave up on (its timeout) never lands later over
 * newer state or takes a unit nobody asked for any more. Short timeouts keep a test within bounds.
 *
 * @example
 * const client = new Cluster(cluster.startupNodes, { ...failoverClusterOptions, enableOfflineQueue: false })
 */
export const failoverClusterOptions = {
  scaleReads: 'master',
  retryDelayOnFailover: 0,
  retryDelayOnClusterDown: 0,
  retryDelayOnTryAgain: 0,
  slotsRefreshTimeout: 500,
  redisOptions: { connectTimeout: 500, maxRetriesPerRequest: 1 },
} as const
