import * as kysely from 'kysely029'
import { Migrator } from 'kysely029/migration'
import { runKyselyRelease } from './conformance/release'

// Every conformance scenario on Kysely 0.29 (the workspace's own Kysely is 0.28), with Kysely
// 0.29's dialects as the control. 0.29 moved Migrator to 'kysely/migration'.
await runKyselyRelease({ ...kysely, Migrator, label: 'Kysely 0.29' })
