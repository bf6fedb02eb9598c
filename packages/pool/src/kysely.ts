export { type InsertManyOptions, insertMany, type UpdateManyOptions, updateMany } from './kysely/batch'
export type { DialectPoolOptions } from './kysely/connection-pool'
export {
  type MysqlConnectionLike,
  type MysqlDialectOptions,
  type MysqlModuleLike,
  mysqlDialect,
} from './kysely/mysql'
export type { PooledDialect } from './kysely/network-dialect'
export {
  type PgClientLike,
  type PgModuleLike,
  type PostgresDialectOptions,
  postgresDialect,
} from './kysely/postgres'
export { withQuerySignal } from './kysely/query-signal'
export type { QueryReportingOptions } from './kysely/reporting'
export type { ConnectionLoss, SqlConnection } from './kysely/sql-connection'
export {
  type SqliteDialect,
  type SqliteDialectOptions,
  sqliteDialect,
} from './kysely/sqlite'
export { SqliteError } from './kysely/sqlite-worker'
