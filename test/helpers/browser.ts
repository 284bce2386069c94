/**
 * A real headless Chromium (Debian's package, installed by .ci/run) driven by playwright-core,
 * for the tests of the visualizer page and the dashboard. Each browser gets a fresh profile
 * (playwright makes a temporary one and removes it on close); the browser is closed in the
 * test's teardown, even on failure.
 * Screenshots are kept as test artifacts under `test-artifacts/` (ignored by git).
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM_PATH = '/usr/bin/chromium'
export const ARTIFACTS_DIR = resolve('test-artifacts')

/** Flags from STACK.md: no sandbox (root in CI), no GPU, nothing that phones home. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface Teardown { teardown(fn: () => unknown): void }

/**
 * Launches Chromium for one test. Fails (never skips) when the binary is missing: CI installs
 * it, and a browser test that silently does not run could not fail.
 */
export async function launchBrowser(t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (see .ci/run)`)
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
  t.teardown(() => browser.close().catch(() => undefined))
  return browser
}

/** A page that fails the test on any script error or console error it shows. */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`console error: ${message.text()}`) })
  return page
}

/** Saves a full-page screenshot as `test-artifacts/NAME.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true })
  const path = join(ARTIFACTS_DIR, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}
