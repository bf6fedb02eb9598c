import { describe, expect, it } from 'vitest'
import { isPgFatal, pgConnectionLoss } from '../src/kysely/postgres'

describe('PostgreSQL error classification', () => {
  it('socket errors are fatal and mean the statement was sent, even when shaped like a SQLSTATE', () => {
    for (const code of ['EPIPE', 'ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED']) {
      expect(isPgFatal({ code }), code).toBe(true)
      expect(pgConnectionLoss({ code }), code).toBe('sent')
    }
  })

  it('SQLSTATE class 57P ends the session; a constraint violation does not', () => {
    expect(isPgFatal({ code: '57P01' })).toBe(true)
    expect(pgConnectionLoss({ code: '57P01' })).toBe('sent')
    expect(isPgFatal({ code: '08006' })).toBe(true)
    expect(isPgFatal({ code: '23505' })).toBe(false)
    expect(pgConnectionLoss({ code: '23505' })).toBeUndefined()
  })
})
