import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cleanup, startServer } from './helpers'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const present = existsSync(CHROMIUM)
if (!present) {
  if (process.env.CI === 'true') {
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\``)
  }
  console.warn(`skipping the chat page browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`)
}

async function joinRoom(page: Page, user: string, room: string): Promise<void> {
  await page.fill('#user', user)
  await page.fill('#room', room)
  await page.click('#join')
  await page.waitForSelector('#text:not([disabled])')
  await expect.poll(() => page.textContent('#room-title')).toContain(`#${room}`)
}

describe.runIf(present)('chat page in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    })
  })
  afterAll(async () => {
    await browser?.close()
  })
  afterEach(cleanup)

  it('two pages join a room, a message sent in one appears in the other, the metrics panel updates', async () => {
    const server = await startServer({ RATE_LIMIT_PER_MINUTE: '3' })
    const alicePage = await browser.newPage()
    const bobPage = await browser.newPage()
    await alicePage.goto(server.url)
    await bobPage.goto(server.url)
    // The panel polls /stats every second; before any message the counts are zero.
    await expect.poll(() => bobPage.textContent('#stat-messages'), { timeout: 5_000 }).toBe('0')
    expect(await bobPage.textContent('#stat-p50')).toBe('–')

    await joinRoom(alicePage, 'alice', 'lobby')
    await joinRoom(bobPage, 'bob', 'lobby')
    await expect.poll(() => alicePage.textContent('#messages')).toContain('bob joined')

    await alicePage.fill('#text', 'hello from alice')
    await alicePage.click('#send')
    const line = bobPage.locator('#messages li.message', { hasText: 'hello from alice' })
    await line.waitFor({ timeout: 5_000 })
    expect(await line.locator('.who').textContent()).toBe('alice')
    await bobPage.fill('#text', 'hi alice')
    await bobPage.press('#text', 'Enter')
    await alicePage.locator('#messages li.message', { hasText: 'hi alice' }).waitFor({ timeout: 5_000 })

    // The panel shows the two messages, latency percentiles and the profile cache's hit rate.
    await expect.poll(() => bobPage.textContent('#stat-messages'), { timeout: 5_000 }).toBe('2')
    expect(await bobPage.textContent('#stat-p50')).toMatch(/^\d+\.\d ms$/)
    expect(await bobPage.textContent('#stat-p99')).toMatch(/^\d+\.\d ms$/)
    expect(await bobPage.textContent('#stat-hit-rate')).toMatch(/^\d+\.\d%$/)
    expect(await bobPage.textContent('#stat-connections')).toBe('2 / 1')

    // Over the limit (3 per minute), the page shows the server's RATE_LIMITED error and the panel counts it.
    for (const text of ['two', 'three', 'four']) {
      await alicePage.fill('#text', text)
      await alicePage.click('#send')
    }
    await expect
      .poll(() => alicePage.textContent('#error'), { timeout: 5_000 })
      .toMatch(/Slow down: Rate limit of 3/)
    await expect.poll(() => bobPage.textContent('#stat-rate-limited'), { timeout: 5_000 }).toBe('1')
    expect(server.stats().rateLimited).toBe(1)
  })
})
