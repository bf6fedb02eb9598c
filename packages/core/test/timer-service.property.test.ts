import { manualTime } from '@hotpath/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Timeout, TimerService } from '../src/index'

const ENTRIES = 6

type Op =
  | { kind: 'add'; id: number; delay: number }
  | { kind: 'remove'; id: number }
  | { kind: 'ref'; id: number; ref: boolean }
  | { kind: 'advance'; ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    id: fc.nat(ENTRIES - 1),
    delay: fc.oneof(fc.nat(40), fc.double({ min: 0, max: 40, noNaN: true })),
  }),
  fc.record({ kind: fc.constant('remove' as const), id: fc.nat(ENTRIES - 1) }),
  fc.record({ kind: fc.constant('ref' as const), id: fc.nat(ENTRIES - 1), ref: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(30) }),
)

/** What the service must do, written out plainly: one due time and one ref flag per entry. */
interface ModelEntry {
  due: number | undefined
  ref: boolean
  /** Order of the last add, for the order among entries due at the same time. */
  seq: number
}

describe('TimerService (property, against a plain model)', () => {
  it('fires every pending entry once, within 1 ms before its due time, in due order; refs its timer iff a ref’d entry waits', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const time = manualTime()
        const service = new TimerService({ clock: time.clock, timers: time.timers })
        const model: ModelEntry[] = Array.from({ length: ENTRIES }, () => ({
          due: undefined,
          ref: true,
          seq: 0,
        }))
        const fired: { id: number; at: number; wakeup: number; due: number; seq: number }[] = []
        let seq = 0
        const entries = model.map(
          (_, id) =>
            new Timeout(() => {
              const m = model[id]!
              expect(m.due).toBeDefined()
              fired.push({ id, at: time.now, wakeup: service.stats().wakeups, due: m.due!, seq: m.seq })
              m.due = undefined
            }),
        )
        for (const step of [...ops, { kind: 'advance', ms: 100 } as Op]) {
          if (step.kind === 'add') {
            service.add(entries[step.id]!, step.delay)
            model[step.id]!.due = Math.ceil(time.now + step.delay - 1e-7)
            model[step.id]!.seq = ++seq
          } else if (step.kind === 'remove') {
            expect(service.remove(entries[step.id]!)).toBe(model[step.id]!.due !== undefined)
            model[step.id]!.due = undefined
          } else if (step.kind === 'ref') {
            if (step.ref) entries[step.id]!.ref()
            else entries[step.id]!.unref()
            model[step.id]!.ref = step.ref
          } else {
            const before = fired.length
            time.advance(step.ms)
            // Fired in this step: within [due - 1, due], and in (due, add order) within a wake-up.
            const batch = fired.slice(before)
            for (const f of batch) {
              expect(f.at).toBeGreaterThanOrEqual(f.due - 1)
              expect(f.at).toBeLessThanOrEqual(f.due)
            }
            for (let i = 1; i < batch.length; i++) {
              const [a, b] = [batch[i - 1]!, batch[i]!]
              if (a.wakeup === b.wakeup)
                expect(a.due < b.due || (a.due === b.due && a.seq < b.seq)).toBe(true)
            }
            // Nothing the model says is overdue is still waiting.
            for (const m of model) if (m.due !== undefined) expect(m.due).toBeGreaterThan(time.now)
          }
          const pending = model.filter((m) => m.due !== undefined)
          expect(service.stats().pending).toBe(pending.length)
          entries.forEach((entry, id) => {
            expect(entry.pending).toBe(model[id]!.due !== undefined)
          })
          // One Node timer at most, armed while anything waits, ref'd iff a ref'd entry waits.
          const timers = [...time.pending.values()]
          expect(timers.length).toBe(pending.length > 0 ? 1 : 0)
          if (timers.length === 1) expect(timers[0]!.ref).toBe(pending.some((m) => m.ref))
        }
      }),
      { numRuns: 300 },
    )
  })
})
