import { needService } from '@hotpath/test-utils'
import * as workspace from 'kysely'
import { describe, it } from 'vitest'
import type { Capabilities, ScenarioContext } from './kit'
import { scenarios } from './scenarios'
import { type ControlDialects, type Engine, targetsOf } from './targets'

/**
 * Another Kysely release (installed under an alias): the exports the scenarios use. Typed loosely:
 * the dialects here are typed by the workspace's Kysely, whose classes another release's types do
 * not accept (private members); at run time only the interfaces count.
 */
export interface KyselyRelease extends ControlDialects {
  label: string
  Kysely: new (config: never) => unknown
  Migrator: new (props: never) => unknown
  sql: unknown
  TransactionBuilder: { prototype: object }
}

/** What `release` offers, read from its classes. */
export function capabilitiesOf(release: KyselyRelease): Capabilities {
  return {
    label: release.label,
    controlledTransactions:
      typeof (release.Kysely.prototype as Record<string, unknown>).startTransaction === 'function',
    accessMode:
      typeof (release.TransactionBuilder.prototype as Record<string, unknown>).setAccessMode === 'function',
  }
}

const workspaceRelease: KyselyRelease = {
  ...(workspace as unknown as KyselyRelease),
  label: 'Kysely (workspace)',
}

/**
 * Runs every scenario against every target of `engine`: hotpath's dialects and Kysely's own as
 * the control, each scenario on a fresh schema, database or file. With `release`, the scenarios
 * run on that release's `Kysely`, `Migrator` and `sql`, and the control is that release's dialect;
 * a scenario needing what the release lacks is skipped with the reason.
 */
export async function runConformance(engine: Engine, release?: KyselyRelease): Promise<void> {
  const available = engine === 'sqlite' || (await needService(engine))
  const used = release ?? workspaceRelease
  const capabilities = capabilitiesOf(used)
  const lib = used as unknown as Pick<ScenarioContext, 'Kysely' | 'Migrator' | 'sql'>
  for (const target of targetsOf(engine, used)) {
    describe.runIf(available)(`conformance${release ? ` (${release.label})` : ''}: ${target.name}`, () => {
      for (const scenario of scenarios) {
        const reason = scenario.skip?.(target, capabilities)
        // The reason is part of the name, so the report says why a scenario did not run.
        if (reason !== undefined) {
          it.skip(`${scenario.name} (${reason})`, () => {})
          continue
        }
        it(scenario.name, async () => {
          const fixture = await target.open()
          const opened: { destroy(): Promise<void> }[] = []
          const context: ScenarioContext = {
            target,
            fixture,
            Kysely: lib.Kysely,
            Migrator: lib.Migrator,
            sql: lib.sql,
            kysely: ({ dialect, max, log } = {}) => {
              const db = new lib.Kysely<unknown>({ dialect: dialect ?? fixture.dialect({ max }), log })
              opened.push(db)
              // biome-ignore lint/suspicious/noExplicitAny: scenarios create their own tables
              return db as workspace.Kysely<any>
            },
          }
          try {
            await scenario.run(context)
          } finally {
            await Promise.all(opened.map((db) => db.destroy()))
            await fixture.close()
          }
        })
      }
    })
  }
}
