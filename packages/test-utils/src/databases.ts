import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { databaseUrl, mysqlUrl } from './services'

const require = createRequire(import.meta.url)

function uniqueName(): string {
  return `hp_test_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** A throw-away PostgreSQL schema. */
export interface TempPgSchema {
  readonly schema: string
  /** Connection URL whose sessions use this schema first (`search_path`). */
  readonly url: string
  /** Drops the schema and everything in it. */
  drop(): Promise<void>
}

async function pgExec(sql: string): Promise<void> {
  const { Client } = require('pg') as typeof import('pg')
  const client = new Client({ connectionString: databaseUrl() })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/**
 * Creates a PostgreSQL schema for one test file.
 *
 * @example
 * const { schema, url, drop } = await tempPgSchema()
 * afterAll(drop)
 */
export async function tempPgSchema(): Promise<TempPgSchema> {
  const schema = uniqueName()
  await pgExec(`create schema "${schema}"`)
  const url = new URL(databaseUrl())
  url.searchParams.set('options', `-c search_path=${schema}`)
  return { schema, url: url.toString(), drop: () => pgExec(`drop schema if exists "${schema}" cascade`) }
}

/** A throw-away MariaDB/MySQL database. */
export interface TempMysqlDatabase {
  readonly database: string
  /** Connection URL pointing at this database. */
  readonly url: string
  /** Drops the database. */
  drop(): Promise<void>
}

async function mysqlExec(sql: string): Promise<void> {
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise')
  const connection = await mysql.createConnection({ uri: mysqlUrl() })
  try {
    await connection.query(sql)
  } finally {
    await connection.end()
  }
}

/**
 * Creates a MariaDB/MySQL database for one test file.
 *
 * @example
 * const { url, drop } = await tempMysqlDatabase()
 * afterAll(drop)
 */
export async function tempMysqlDatabase(): Promise<TempMysqlDatabase> {
  const database = uniqueName()
  await mysqlExec(`create database \`${database}\``)
  const url = new URL(mysqlUrl())
  url.pathname = `/${database}`
  return { database, url: url.toString(), drop: () => mysqlExec(`drop database if exists \`${database}\``) }
}
