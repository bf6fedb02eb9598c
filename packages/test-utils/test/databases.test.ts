import Redis from 'ioredis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import {
  dropRedisPrefix,
  needService,
  redisUrl,
  tempMysqlDatabase,
  tempPgSchema,
  uniquePrefix,
} from '../src/index'

describe('uniquePrefix', () => {
  it('differs on every call', () => {
    const a = uniquePrefix('x')
    const b = uniquePrefix('x')
    expect(a).not.toBe(b)
    expect(a.startsWith('hp:test:x:')).toBe(true)
  })
})

describe.runIf(await needService('redis'))('dropRedisPrefix', () => {
  it('removes only the keys under the prefix', async () => {
    const client = new Redis(redisUrl())
    const mine = uniquePrefix('drop')
    const other = uniquePrefix('keep')
    await client.mset(`${mine}a`, 1, `${mine}b`, 2, `${other}c`, 3)
    expect(await dropRedisPrefix(client, mine)).toBe(2)
    expect(await client.exists(`${mine}a`, `${mine}b`)).toBe(0)
    expect(await client.get(`${other}c`)).toBe('3')
    await dropRedisPrefix(client, other)
    client.disconnect()
  })
})

describe.runIf(await needService('postgres'))('tempPgSchema', () => {
  it('creates a schema used by its URL and drops it', async () => {
    const temp = await tempPgSchema()
    const client = new pg.Client({ connectionString: temp.url })
    await client.connect()
    await client.query('create table t (id int)')
    const { rows } = await client.query(
      'select table_schema from information_schema.tables where table_name = $1',
      ['t'],
    )
    expect(rows.map((r) => r.table_schema)).toContain(temp.schema)
    await client.end()
    await temp.drop()
    const check = new pg.Client({ connectionString: temp.url })
    await check.connect()
    const gone = await check.query('select 1 from information_schema.schemata where schema_name = $1', [
      temp.schema,
    ])
    expect(gone.rowCount).toBe(0)
    await check.end()
  })
})

describe.runIf(await needService('mysql'))('tempMysqlDatabase', () => {
  it('creates a database reachable through its URL and drops it', async () => {
    const temp = await tempMysqlDatabase()
    const connection = await mysql.createConnection({ uri: temp.url })
    const [rows] = await connection.query('select database() as db')
    expect((rows as { db: string }[])[0]?.db).toBe(temp.database)
    await connection.end()
    await temp.drop()
    const admin = await mysql.createConnection({ uri: temp.url.replace(temp.database, 'test') })
    const [left] = await admin.query('show databases like ?', [temp.database])
    expect(left).toHaveLength(0)
    await admin.end()
  })
})
