export { type InsertManyOptions, insertMany, type UpdateManyOptions, updateMany } from './kysely/batch'
export type {
  ConnectionLoss,
  DialectPoolOptions,
  QueryReportingOptions,
  SqlConnection,
} from './kysely/driver'
export {
  type MysqlConnectionLike,
  type MysqlDialectOptions,
  type MysqlModuleLike,
  mysqlDialect,
} from './kysely/mysql'
export {
  type PgClientLike,
  type PgModuleLike,
  type PooledDialect,
  type PostgresDialectOptions,
  postgresDialect,
} from './kysely/postgres'
export { withQuerySignal } from './kysely/query-signal'
export {
  type SqliteDialect,
  type SqliteDialectOptions,
  sqliteDialect,
} from './kysely/sqlite'
export { SqliteError } from './kysely/sqlite-worker'
