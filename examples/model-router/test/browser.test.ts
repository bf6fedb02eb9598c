import { mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumAvailable, launchChromium } from '@hotpath/test-utils'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { runLoad } from '../src/load'
import { startRouter } from '../src/server'

const present = chromiumAvailable('the live page browser test')
// Git-ignored (.tmp/), kept after the run for a look at the page.
const ARTIFACTS = join(import.meta.dirname, '..', '..', '..', '.tmp', 'artifacts')
const CHARTS = ['throughput', 'latency', 'hit-rate', 'provider-success', 'provider-latency']

/** Points drawn per series of one chart, and the path data (which changes when the chart moves). */
async function readChart(page: Page, id: string) {
  return page.$$eval(`#chart-${id} path.series`, (paths) =>
    paths.map((p) => ({
      series: p.getAttribute('data-series'),
      points: Number(p.getAttribute('data-points')),
      d: p.getAttribute('d') ?? '',
    })),
  )
}

describe.runIf(present)('live page in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('draws throughput, latency, hit rate and provider scores from /stats and keeps them moving', async () => {
    const file = join(tmpdir(), `hotpath-router-browser-${process.pid}.db`)
    const running = await startRouter(readConfig({ PORT: '0', SQLITE_FILE: file }))
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
    try {
      const load = runLoad({ url: running.url, durationMs: 12_000, concurrency: 8 })
      await page.goto(`${running.url}/`)
      expect(await page.title()).toBe('model router · live')

      // Every chart has its series once a few intervals are in.
      await expect
        .poll(async () => Number(await page.getAttribute('#chart-throughput svg', 'data-points')), {
          timeout: 10_000,
        })
        .toBeGreaterThanOrEqual(3)
      const first: Record<string, Awaited<ReturnType<typeof readChart>>> = {}
      for (const id of CHARTS) first[id] = await readChart(page, id)
      expect(first.throughput!.find((s) => s.series === 'completions')!.points).toBeGreaterThanOrEqual(3)
      expect(first.latency!.map((s) => s.series)).toEqual(['p50', 'p95', 'p99'])
      for (const s of first.latency!) expect(s.points).toBeGreaterThanOrEqual(1)
      expect(first['hit-rate']![0]!.points).toBeGreaterThanOrEqual(1)
      for (const id of ['provider-success', 'provider-latency']) {
        expect(first[id]!.map((s) => s.series)).toEqual(['alpha', 'beta', 'gamma'])
        for (const s of first[id]!) expect(s.points).toBeGreaterThanOrEqual(3)
      }
      // The drawn values are the router's: throughput above zero, the summary in the same units.
      expect(await page.textContent('#now-throughput')).toMatch(/^[1-9]\d*\.\d req\/s$/)
      expect(await page.textContent('#now-latency')).toMatch(/^\d+\.\d \/ \d+\.\d ms$/)
      expect(await page.textContent('#now-hit-rate')).toMatch(/^\d+\.\d%$/)

      // Two seconds later the charts have more points and the lines have moved.
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      const later = await readChart(page, 'throughput')
      const before = first.throughput!.find((s) => s.series === 'completions')!
      const after = later.find((s) => s.series === 'completions')!
      expect(after.points).toBeGreaterThan(before.points)
      expect(after.d).not.toBe(before.d)
      expect((await readChart(page, 'latency'))[0]!.d).not.toBe(first.latency![0]!.d)

      mkdirSync(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: join(ARTIFACTS, 'model-router-live-page.png'), fullPage: true })
      await load
      expect(problems).toEqual([])
    } finally {
      // The page first: once the router is gone its polling would fail.
      await page.close()
      await running.stop()
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
    }
  }, 60_000)
})
