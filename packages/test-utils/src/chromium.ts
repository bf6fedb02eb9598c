import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'

/** The Chromium binary browser tests drive: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Flags for a headless Chromium on a machine without outside network: background networking,
 * component updates, sync and QUIC would otherwise open connections that are refused and show up
 * as console noise.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Whether Chromium is installed. Under `CI=true` a missing binary throws, so a browser suite is
 * never skipped there; elsewhere one line says which suite is skipped and how to install it.
 *
 * @example
 * ```ts
 * describe.runIf(chromiumAvailable('the live page'))('live page in Chromium', () => { ... })
 * ```
 */
export function chromiumAvailable(suite: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true
  if (process.env.CI === 'true') {
    throw new Error(`${CHROMIUM_PATH} is missing: install it with \`apt-get install -y chromium\``)
  }
  console.warn(`skipping ${suite} in Chromium: ${CHROMIUM_PATH} is missing (apt-get install -y chromium)`)
  return false
}

/**
 * Starts headless Chromium through playwright-core with {@link CHROMIUM_ARGS}.
 *
 * @example
 * ```ts
 * const browser = await launchChromium()
 * try {
 *   const page = await browser.newPage()
 *   await page.goto(url)
 * } finally {
 *   await browser.close()
 * }
 * ```
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] })
}
