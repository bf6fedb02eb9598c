import { Kysely, Migrator, sql } from 'kysely027'
import { runKyselyRelease } from './conformance/release'

// hotpath's dialects on the oldest Kysely of the peer range (the workspace's own Kysely is 0.28);
// controlled transactions came in 0.28, so their scenarios do not run here.
await runKyselyRelease({ label: 'Kysely 0.27', Kysely, Migrator, sql, controlledTransactions: false })
