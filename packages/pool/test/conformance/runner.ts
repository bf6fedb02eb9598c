import { needService } from '@hotpath/test-utils'
import { Kysely } from 'kysely'
import { describe, it } from 'vitest'
import { type ScenarioContext, scenarios } from './scenarios'
import { type Engine, targetsOf } from './targets'

/** Another Kysely release's `Kysely` class (installed under an alias), to run the same scenarios on. */
export interface KyselyRelease {
  label: string
  // Typed loosely: the dialects here are typed by the workspace's Kysely, whose classes another
  // release's types do not accept (private members); at run time only the interfaces count.
  Kysely: new (
    config: never,
  ) => unknown
  /** Scenario names to run; all of them by default. */
  scenarios?: readonly string[]
}

/**
 * Runs every scenario against every target of `engine`: hotpath's dialects and Kysely's own as
 * the control, each scenario on a fresh schema, database or file. With `release`, only hotpath's
 * dialects run, on that release's `Kysely` class.
 */
export async function runConformance(engine: Engine, release?: KyselyRelease): Promise<void> {
  const available = engine === 'sqlite' || (await needService(engine))
  const KyselyClass = (release?.Kysely ?? Kysely) as typeof Kysely
  const targets = targetsOf(engine).filter((target) => !release || !target.control)
  const selected = scenarios.filter(
    (scenario) => !release?.scenarios || release.scenarios.includes(scenario.name),
  )
  for (const target of targets) {
    describe.runIf(available)(`conformance${release ? ` (${release.label})` : ''}: ${target.name}`, () => {
      for (const scenario of selected) {
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
              const db = new KyselyClass<unknown>({ dialect: dialect ?? fixture.dialect({ max }), log })
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
