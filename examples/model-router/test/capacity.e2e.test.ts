import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { CapacitySample } from '@hotpath/metrics'
import { afterAll, describe, expect, it } from 'vitest'

const out = mkdtempSync(join(tmpdir(), 'model-router-capacity-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

interface CapacityFile {
  // As written to JSON: an unknown event-loop utilization is null.
  steps: (Omit<CapacitySample, 'elu'> & { elu: number | null })[]
  knee: { concurrency: number; rps: number; p99: number } | null
  usl: { sigma: number; kappa: number; lambda: number }
  verdict: string
}

describe('capacity command', () => {
  it('steps the router up, fits the law and writes capacity.json and the chart', async () => {
    const run = promisify(execFile)
    // The README's command, from the repository root, in its CI form.
    const { stdout } = await run('pnpm', ['--filter', 'model-router', 'capacity', '--quick', '--out', out], {
      cwd: join(import.meta.dirname, '..', '..', '..'),
      timeout: 120_000,
    })
    const file = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8')) as CapacityFile
    expect(file.steps.length).toBeGreaterThanOrEqual(3)
    for (const [i, step] of file.steps.entries()) {
      if (i > 0) expect(step.concurrency).toBeGreaterThan(file.steps[i - 1]!.concurrency)
      expect(step.rps).toBeGreaterThan(0)
      expect(step.p50).toBeGreaterThan(0)
      expect(step.p50).toBeLessThanOrEqual(step.p95)
      expect(step.p95).toBeLessThanOrEqual(step.p99)
      expect(step.errors).toBeGreaterThanOrEqual(0)
      expect(step.errors).toBeLessThan(0.5)
      // In-process, the router's own event loop is measured.
      expect(step.elu).toBeGreaterThan(0)
      expect(step.elu).toBeLessThanOrEqual(1)
    }
    // More requests in flight against providers that answer in tens of ms: throughput rises.
    expect(file.steps.at(-1)!.rps).toBeGreaterThan(file.steps[0]!.rps)
    if (file.knee) {
      const step = file.steps.find((s) => s.concurrency === file.knee!.concurrency)
      expect(step).toBeDefined()
      expect(file.knee.rps).toBe(step!.rps)
      expect(file.knee.p99).toBeLessThan(100)
    }
    for (const v of [file.usl.sigma, file.usl.kappa, file.usl.lambda]) {
      expect(Number.isFinite(v)).toBe(true)
      expect(v).toBeGreaterThanOrEqual(0)
    }
    expect(file.usl.sigma).toBeLessThanOrEqual(1)
    expect(file.usl.lambda).toBeGreaterThan(0)
    expect(stdout).toContain(file.verdict)
    expect(stdout).toMatch(/concurrency\s+measured req\/s\s+predicted req\/s/)
    const svg = readFileSync(join(out, 'capacity.svg'), 'utf8')
    expect(svg).toMatch(/^<svg [^>]*viewBox/)
    expect(svg.match(/<circle /g)?.length).toBe(file.steps.length * 2)
  }, 150_000)
})
