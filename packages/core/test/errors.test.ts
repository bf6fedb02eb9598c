import { describe, expect, it } from 'vitest'
import { AbortedError, errors, HotpathError, TimeoutError } from '../src/index'

describe('errors', () => {
  it('carries a code, a cause and its class name', () => {
    const cause = new Error('socket closed')
    class PoolError extends HotpathError {}
    const error = new PoolError('E_POOL_CLOSED', 'The pool is closed.', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(HotpathError)
    expect(error.code).toBe('E_POOL_CLOSED')
    expect(error.cause).toBe(cause)
    expect(error.name).toBe('PoolError')
    expect(error.message).toBe('The pool is closed.')
    expect('cause' in new HotpathError('E_X', 'no cause')).toBe(false)
  })

  it('has timeout and abort errors in the errors map', () => {
    const timeout = new errors.TimeoutError(100)
    expect(timeout).toBeInstanceOf(TimeoutError)
    expect(timeout.code).toBe('E_TIMEOUT')
    expect(timeout.timeout).toBe(100)
    expect(new AbortedError().code).toBe('E_ABORTED')
  })
})
