import { needService } from '@hotpath/test-utils'
import { Kysely } from 'kysely'
import { describe, it } from 'vitest'
import { type ScenarioContext, scenarios } from './scenarios'
import { type Engine, targetsOf } from './targets'

/**
 * Runs every scenario against every target of `engine`: hotpath's dialects and Kysely's own as
 * the control, each scenario on a fresh schema, database or file.
 */
export async function runConformance(engine: Engine): Promise<void> {
  const available = engine === 'sqlite' || (await needService(engine))
  for (const target of targetsOf(engine)) {
    describe.runIf(available)(`conformance: ${target.name}`, () => {
      for (const scenario of scenarios) {
        const reason = scenario.skip?.(target)
        // The reason is part of the name, so the report says why a scenario did not run.
        if (reason !== undefined) {
          it.skip(`${scenario.name} (${reason})`, () => {})
          continue
        }
        it(scenario.name, async () => {
          const fixture = await target.open()
          const opened: Kysely<unknown>[] = []
          const context: ScenarioContext = {
            target,
            fixture,
            kysely: ({ dialect, max, log } = {}) => {
              const db = new Kysely<unknown>({ dialect: dialect ?? fixture.dialect({ max }), log })
              opened.push(db)
              // biome-ignore lint/suspicious/noExplicitAny: scenarios create their own tables
              return db as Kysely<any>
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
