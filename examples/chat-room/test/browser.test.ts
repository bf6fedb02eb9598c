import { chromiumAvailable, launchChromium } from '@hotpath/test-utils'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cleanup, startServer } from './helpers'

const present = chromiumAvailable('the chat page browser test')

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
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })
  afterEach(cleanup)

  it('two pages join a room, a message sent in one appears in the other, the metrics panel updates', async () => {
    const server = await startServer({ RATE_LIMIT_PER_MINUTE: '4', RENDER_OFFLOAD_CHARS: '100' })
    const alicePage = await browser.newPage()
    const bobPage = await browser.newPage()
    await alicePage.goto(server.url)
    await bobPage.goto(server.url)
    // The panel polls /stats every second; before any message the counts are zero.
    await expect.poll(() => bobPage.textContent('#stat-messages'), { timeout: 5_000 }).toBe('0')
    expect(await bobPage.textContent('#stat-p50')).toBe('–')
    // The render pool keeps one warm thread; nothing rendered in it yet.
    expect(await bobPage.textContent('#stat-workers')).toMatch(/^[12] \/ 0 \/ 0$/)
    expect(await bobPage.textContent('#stat-worker-utilization')).toBe('0.0% (0 rendered)')

    await joinRoom(alicePage, 'alice', 'lobby')
    expect(await alicePage.textContent('#room-title')).toBe('#lobby (alice)')
    await joinRoom(bobPage, 'bob', 'lobby')
    await expect.poll(() => alicePage.textContent('#messages')).toContain('bob joined')
    // Both tabs list both members, in the heading and the tab title, once bob is in.
    await expect.poll(() => alicePage.textContent('#room-title')).toBe('#lobby (alice, bob)')
    expect(await alicePage.title()).toBe('#lobby (alice, bob) – hotpath chat room')
    expect(await bobPage.textContent('#room-title')).toBe('#lobby (alice, bob)')
    expect(await bobPage.title()).toBe('#lobby (alice, bob) – hotpath chat room')

    await alicePage.fill('#text', 'hello from alice')
    await alicePage.click('#send')
    const line = bobPage.locator('#messages li.message', { hasText: 'hello from alice' })
    await line.waitFor({ timeout: 5_000 })
    expect(await line.locator('.who').textContent()).toBe('alice')
    await bobPage.fill('#text', 'hi alice')
    await bobPage.press('#text', 'Enter')
    await alicePage.locator('#messages li.message', { hasText: 'hi alice' }).waitFor({ timeout: 5_000 })

    // A long message is rendered in a worker thread: markup and link arrive as elements, the
    // script tag as text, and the panel's render figures move.
    const long = `**long** one with a link https://example.com/x and <img src=x onerror=alert(1)> ${'words '.repeat(20)}`
    await alicePage.fill('#text', long)
    await alicePage.click('#send')
    const rendered = bobPage.locator('#messages li.message', { hasText: 'long one with a link' })
    await rendered.waitFor({ timeout: 5_000 })
    expect(await rendered.locator('strong').textContent()).toBe('long')
    expect(await rendered.locator('a').getAttribute('href')).toBe('https://example.com/x')
    expect(await rendered.locator('img').count()).toBe(0)
    expect(await rendered.textContent()).toContain('<img src=x onerror=alert(1)>')
    await expect
      .poll(() => bobPage.textContent('#stat-worker-utilization'), { timeout: 5_000 })
      .toMatch(/^\d+\.\d% \(1 rendered\)$/)
    expect(await bobPage.textContent('#stat-workers')).toMatch(/^[12] \/ 0 \/ 0$/)
    expect(server.stats().workers).toMatchObject({ completed: 1, failed: 0 })

    // The panel shows the two messages, latency percentiles and the profile cache's hit rate.
    await expect.poll(() => bobPage.textContent('#stat-messages'), { timeout: 5_000 }).toBe('3')
    expect(await bobPage.textContent('#stat-p50')).toMatch(/^\d+\.\d ms$/)
    expect(await bobPage.textContent('#stat-p99')).toMatch(/^\d+\.\d ms$/)
    expect(await bobPage.textContent('#stat-hit-rate')).toMatch(/^\d+\.\d%$/)
    expect(await bobPage.textContent('#stat-connections')).toBe('2 / 1')

    // Over the limit (4 per minute), the page shows the server's RATE_LIMITED error, with the
    // wait in whole seconds, and the panel counts it.
    for (const text of ['three', 'four', 'five']) {
      await alicePage.fill('#text', text)
      await alicePage.click('#send')
    }
    await expect
      .poll(() => alicePage.textContent('#error'), { timeout: 5_000 })
      .toMatch(/^Slow down: Rate limit of 4 messages per minute reached; retry in \d{1,2} s\.$/)
    await expect.poll(() => bobPage.textContent('#stat-rate-limited'), { timeout: 5_000 }).toBe('1')
    expect(server.stats().rateLimited).toBe(1)

    // Bob leaves for another room: alice's tab drops him from the list.
    await joinRoom(bobPage, 'bob', 'kitchen')
    await expect.poll(() => alicePage.textContent('#room-title')).toBe('#lobby (alice)')
    expect(await alicePage.title()).toBe('#lobby (alice) – hotpath chat room')
    expect(await bobPage.title()).toBe('#kitchen (bob) – hotpath chat room')
  })
})
