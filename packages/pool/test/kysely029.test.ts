import { Kysely, sql } from 'kysely029'
import { Migrator } from 'kysely029/migration'
import { runKyselyRelease } from './conformance/release'

// hotpath's dialects on Kysely 0.29 (the workspace's own Kysely is 0.28). 0.29 moved Migrator to
// 'kysely/migration'.
await runKyselyRelease({ label: 'Kysely 0.29', Kysely, Migrator, sql, controlledTransactions: true })
