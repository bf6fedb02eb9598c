import * as kysely from 'kysely027'
import { runKyselyRelease } from './conformance/release'

// Every conformance scenario on the oldest Kysely of the peer range (the workspace's own Kysely is
// 0.28), with Kysely 0.27's dialects as the control; what 0.27 lacks (controlled transactions,
// setAccessMode) is skipped by name.
await runKyselyRelease({ ...kysely, label: 'Kysely 0.27.0' })
