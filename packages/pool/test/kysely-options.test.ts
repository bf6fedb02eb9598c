import { describe, expect, it } from 'vitest'
import { mysqlDialect, postgresDialect, sqliteDialect } from '../src/kysely'

const badLogger =
  'Expected `logger` to be an object with a warn(message, details) method, got `[object]` (object)'

describe('dialect options', () => {
  it('a logger without warn() throws a TypeError where the dialect is created', () => {
    const dialects = [
      () => postgresDialect({ logger: {} as never }),
      () => mysqlDialect({ logger: {} as never }),
      () => sqliteDialect({ filename: ':memory:', logger: {} as never }),
    ]
    for (const create of dialects) {
      expect(create).toThrow(TypeError)
      expect(create).toThrow(badLogger)
    }
  })
})
