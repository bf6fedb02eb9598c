import { createRequire } from 'node:module'
import net from 'node:net'

/** The services test suites can ask for. */
export type ServiceName = 'redis' | 'postgres' | 'mysql'

/** Redis URL for tests: `REDIS_URL` or the local default. */
export function redisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379'
}

/** PostgreSQL URL for tests: `DATABASE_URL` or the local default. */
export function databaseUrl(): string {
  return process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
}

/** MariaDB/MySQL URL for tests: `MYSQL_URL` or the local default. */
export function mysqlUrl(): string {
  return process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'
}

const require = createRequire(import.meta.url)
const probes = new Map<ServiceName, Promise<string | undefined>>()

/** Resolves to undefined when the service answers, or to the reason it does not. */
async function probe(service: ServiceName): Promise<string | undefined> {
  try {
    if (service === 'redis') await pingRedis(redisUrl())
    else if (service === 'postgres') {
      const { Client } = require('pg') as typeof import('pg')
      const client = new Client({ connectionString: databaseUrl(), connectionTimeoutMillis: 2_000 })
      try {
        await client.connect()
        await client.query('select 1')
      } finally {
        await client.end().catch(() => {})
      }
    } else {
      const mysql = require('mysql2/promise') as typeof import('mysql2/promise')
      const connection = await mysql.createConnection({ uri: mysqlUrl(), connectTimeout: 2_000 })
      try {
        await connection.query('select 1')
      } finally {
        await connection.end().catch(() => {})
      }
    }
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** Sends PING over a raw socket (no client library), resolving on `+PONG`. */
export function pingRedis(url: string, timeout = 2_000): Promise<void> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) })
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeout} ms`)), timeout)
    let received = ''
    function finish(error?: Error) {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve()
    }
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      if (received.includes('\r\n')) {
        if (received.startsWith('+PONG')) finish()
        else finish(new Error(`unexpected reply ${JSON.stringify(received.trim())}`))
      }
    })
    socket.on('error', (error) => finish(error))
  })
}

function describeTarget(service: ServiceName): string {
  const url = service === 'redis' ? redisUrl() : service === 'postgres' ? databaseUrl() : mysqlUrl()
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port}`
}

/**
 * Whether `service` is reachable. When it is not: prints one line saying which suites are skipped
 * and why, and returns false; under `CI=true` it throws instead, so CI never passes by skipping.
 *
 * @example
 * describe.runIf(await needService('redis'))('redis store', () => { ... })
 */
export async function needService(service: ServiceName): Promise<boolean> {
  let pending = probes.get(service)
  if (!pending) {
    pending = probe(service)
    probes.set(service, pending)
  }
  const failure = await pending
  if (failure === undefined) return true
  const line = `${service} unreachable at ${describeTarget(service)} (${failure})`
  if (process.env.CI === 'true') throw new Error(`${line}: CI=true requires it`)
  console.warn(`[skip] ${line}: skipping its suites`)
  return false
}
