import { describe, expect, it } from 'vitest'
import {
  advise,
  cpuProfile,
  createRegistry,
  heapProfile,
  heapSnapshot,
  leakWatch,
  runtimeMetrics,
  slowLog,
  timingMiddleware,
} from '../src/index'
import { otelBridge } from '../src/otel'

// A misspelled option must fail at once, as TypeScript would tell its users, instead of running
// silently with the default.
describe('unknown option names', () => {
  const registry = createRegistry()

  it('every factory refuses a misspelled option synchronously, naming it and the likely intended one', () => {
    const cases: Array<[() => unknown, string, string]> = [
      [() => createRegistry({ maxSerie: 10 } as never), 'maxSerie', 'maxSeries'],
      [() => registry.counter('c_total', { lables: ['a'] } as never), 'lables', 'labels'],
      [() => registry.gauge('g', { hlep: 'x' } as never), 'hlep', 'help'],
      [() => registry.histogram('h', { hihgest: 10 } as never), 'hihgest', 'highest'],
      [() => advise(registry.snapshot(), { httpP59: 1 } as never), 'httpP59', 'httpP95'],
      [() => leakWatch({ windw: 5 } as never), 'windw', 'window'],
      [() => timingMiddleware({ registry, processtime: true } as never), 'processtime', 'processTime'],
      [() => runtimeMetrics(registry, { intreval: '1s' } as never), 'intreval', 'interval'],
      [() => slowLog({ treshold: '1s' } as never), 'treshold', 'threshold'],
      [() => otelBridge(registry, { metre: {} } as never), 'metre', 'meter'],
    ]
    for (const [call, name, hint] of cases) {
      expect(call).toThrow(TypeError)
      expect(call).toThrow(`Expected \`${name}\` to be a known option of`)
      expect(call).toThrow(`(did you mean \`${hint}\`?)`)
    }
  })

  it('the profilers throw synchronously, before starting a session (argument errors are never a rejection)', () => {
    expect(() => cpuProfile({ duraton: '1s' } as never)).toThrow(/did you mean `duration`/)
    expect(() => heapProfile({ samplingIntervl: 1 } as never)).toThrow(/did you mean `samplingInterval`/)
    expect(() => heapSnapshot({ pth: '/tmp/x' } as never)).toThrow(/did you mean `path`/)
    expect(() => cpuProfile({ duration: 'soon' as never })).toThrow(TypeError)
  })

  it('histogram options include the common metric options', () => {
    expect(() => registry.histogram('h2', { help: 'x', unit: 'ms', lowest: 1, highest: 1000 })).not.toThrow()
    expect(() => registry.counter('c2_total', { lowest: 1 } as never)).toThrow(/known option of/)
  })
})
