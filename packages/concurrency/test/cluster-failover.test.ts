import {
  failoverClusterOptions,
  failoverTestsEnabled,
  needService,
  type RedisCluster,
  startRedisCluster,
  watchLoopLag,
} from '@hotpath/test-utils'
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis'
import { Cluster as Cluster6 } from 'ioredis6'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisRateLimiter, redisSemaphore } from '../src/redis'

// A master of a 3-master cluster with one replica each is SIGKILLed while load runs; its replica
// takes over. The properties hold on ioredis 5 and ioredis 6 Cluster clients.

const clusterOptions = failoverClusterOptions

type AnyCluster = Cluster5 | Cluster6
const clients = [
  ['ioredis 5', (nodes: { host: string; port: number }[]) => new Cluster5(nodes, clusterOptions)],
  ['ioredis 6', (nodes: { host: string; port: number }[]) => new Cluster6(nodes, clusterOptions)],
] as const

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const SUM = "local t = 0 for _, v in ipairs(redis.call('HVALS', KEYS[1])) do t = t + tonumber(v) end return t"

describe.runIf((await needService('redis')) && failoverTestsEnabled())(
  'Redis Cluster failover under load',
  () => {
    let cluster: RedisCluster
    const open: AnyCluster[] = []

    async function connect(make: (typeof clients)[number][1]) {
      const client = make(cluster.startupNodes)
      client.on('error', () => {})
      open.push(client)
      await client.ping()
      return client
    }

    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeout: 1_000 })
    }, 60_000)
    afterAll(async () => {
      for (const client of open) client.disconnect()
      await cluster?.stop()
    })

    it.each(clients)(
      '%s: redisRateLimiter never hangs and admits at most limit + the writes lost with the master',
      async (label, make) => {
        await cluster.recover()
        const client = await connect(make)
        const limit = 1_000
        const timeout = 200
        const key = `hot-${label.replace(' ', '')}`
        const limiter = redisRateLimiter({
          client,
          limit,
          window: '1m',
          prefix: 'rl:',
          timeout,
          retryInterval: '100ms',
          // Only Redis admits: every admission counted here was recorded by a master.
          fallback: 'deny',
        })
        let admitted = 0
        let slowest = 0
        // Position of each admission in the window (limit - remaining) and when it was acknowledged.
        const acks: { at: number; position: number }[] = []
        // Every call: when it started and when the old master's answer came (Infinity: never).
        const calls: { started: number; answered: number }[] = []
        let stop = false
        const consume = async (weight: number) => {
          const call = { started: performance.now(), answered: Number.POSITIVE_INFINITY }
          calls.push(call)
          const result = await limiter.consume(key, weight)
          slowest = Math.max(slowest, performance.now() - call.started)
          if (result.source === 'redis') call.answered = performance.now()
          if (result.allowed && result.source === 'redis') {
            admitted += weight
            acks.push({ at: performance.now(), position: limit - result.remaining })
          }
          return result
        }
        const worker = async () => {
          while (!stop) {
            await consume(1)
            // Keeps the admission rate moderate so the limit is not used up before the kill.
            await sleep(2)
          }
        }
        const lag = watchLoopLag()
        const workers = Array.from({ length: 8 }, worker)
        while (admitted < limit / 10) await sleep(5)
        let killedAt = 0
        let replicated = 0
        let ackedByOldMaster = 0
        const failover = await cluster.failover(`rl:{${key}}`, {
          async onKilled([replica]) {
            killedAt = performance.now()
            // The replica's copy is frozen until it is promoted: what it holds is what survives.
            const reader = new Redis5(replica!.port, replica!.host, { lazyConnect: true })
            await reader.connect()
            await reader.readonly()
            replicated = Number(await reader.eval(SUM, 1, `rl:{${key}}`))
            reader.disconnect()
            ackedByOldMaster = Math.max(...acks.map((a) => a.position))
          },
        })
        // Load goes on past the failover until the limit is used up and refusals come from Redis.
        const deadline = performance.now() + 8_000
        while (performance.now() < deadline) {
          await sleep(50)
          const probe = await consume(1)
          if (!probe.allowed && probe.source === 'redis' && probe.remaining === 0) break
        }
        stop = true
        await Promise.all(workers)
        lag.stop()
        const stored = Number(await client.eval(SUM, 1, `rl:{${key}}`))
        // Acknowledged by the old master but absent from its replica: lost with it.
        const lost = Math.max(0, ackedByOldMaster - replicated)
        // Recorded and replicated, but the reply died with the master: counted, never admitted.
        const unacknowledged = Math.max(0, replicated - ackedByOldMaster)
        // Calls the old master had not answered when it died (in flight, or given up on).
        const unanswered = calls.filter((c) => c.started <= killedAt && c.answered > killedAt).length
        const firstLost = acks.find((a) => a.at <= killedAt && a.position === replicated + 1)
        const lostWindowMs = firstLost ? killedAt - firstLost.at : 0
        const rate = acks.filter((a) => a.at > killedAt - 1_000 && a.at <= killedAt).length
        console.log(
          `${label} rate limiter failover: ${JSON.stringify({ ackedByOldMaster, replicated, lost, unacknowledged, unanswered, lostWindowMs: Math.round(lostWindowMs), admissionsPerSecondBeforeKill: rate, admitted, stored, overAdmission: admitted - limit, failoverMs: failover.tookMs, forced: failover.forced, slowestMs: Math.round(slowest), loopLagMs: lag.max, stats: limiter.stats() })}`,
        )
        // No caller waited past the limiter's timeout (plus scheduling slack on a loaded machine).
        expect(slowest).toBeLessThan(timeout + 150 + lag.max)
        // Over-admission comes only from writes acknowledged by the old master and lost with it.
        expect(ackedByOldMaster).toBeLessThan(limit)
        // Only a call the old master had not answered when it died can be recorded without a reply.
        expect(unacknowledged).toBeLessThanOrEqual(unanswered)
        expect(admitted).toBeLessThanOrEqual(limit + lost)
        expect(stored).toBeLessThanOrEqual(limit)
      },
      40_000,
    )

    it.each(clients)(
      '%s: redisSemaphore never hangs, and returns to its full permit count after failover + lease',
      async (label, make) => {
        await cluster.recover()
        const client = await connect(make)
        const permits = 4
        const lease = 1_500
        const acquireTimeout = 1_000
        const key = `jobs-${label.replace(' ', '')}`
        const sem = redisSemaphore({
          client,
          key,
          permits,
          lease,
          timeout: acquireTimeout,
          retryInterval: '20ms',
          commandTimeout: '200ms',
          prefix: 'sem:',
        })
        let inside = 0
        let peak = 0
        let done = 0
        let timeouts = 0
        let lostLeases = 0
        let slowest = 0
        let stop = false
        const worker = async () => {
          while (!stop) {
            const started = performance.now()
            try {
              await sem.run(async (signal) => {
                slowest = Math.max(slowest, performance.now() - started)
                inside++
                peak = Math.max(peak, inside)
                await sleep(15)
                inside--
                if (signal.aborted) lostLeases++
              })
              done++
            } catch (error) {
              slowest = Math.max(slowest, performance.now() - started)
              if ((error as { code?: string }).code === 'E_SEMAPHORE_TIMEOUT') timeouts++
              else throw error
            }
          }
        }
        const lag = watchLoopLag()
        const workers = Array.from({ length: 10 }, worker)
        while (done < 40) await sleep(5)
        const failover = await cluster.failover(`sem:{${key}}`)
        const afterFailover = done
        const resumed = performance.now()
        while (done < afterFailover + 40 && performance.now() - resumed < 5_000) await sleep(10)
        stop = true
        await Promise.all(workers)
        lag.stop()
        const doneAfter = done - afterFailover
        // Permits whose release was lost with the master come back when their lease ends.
        await sleep(lease + 100)
        const count = await sem.count()
        const held = await Promise.all(Array.from({ length: permits + 1 }, () => sem.tryAcquire()))
        console.log(
          `${label} semaphore failover: ${JSON.stringify({ peak, done, doneAfter, timeouts, lostLeases, failoverMs: failover.tookMs, forced: failover.forced, slowestMs: Math.round(slowest), loopLagMs: lag.max, count })}`,
        )
        expect(slowest).toBeLessThan(acquireTimeout + 50 + lag.max)
        expect(doneAfter).toBeGreaterThanOrEqual(40)
        expect(count).toBe(0)
        expect(held.filter(Boolean)).toHaveLength(permits)
        await Promise.all(held.map((lease) => lease?.release()))
        expect(await sem.count()).toBe(0)
      },
      40_000,
    )
  },
)
