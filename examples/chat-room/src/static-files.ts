import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** One file of the browser page, read once at startup. */
export interface StaticFile {
  body: Buffer
  contentType: string
}

const PUBLIC_DIR = join(import.meta.dirname, '..', 'public')

const FILES: Record<string, [file: string, contentType: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
}

/**
 * Loads the page's files from `public/` into memory: a fixed list, so no request path ever
 * reaches the file system.
 *
 * @example
 * const files = loadStaticFiles()
 * const file = files.get(url.pathname)
 */
export function loadStaticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  for (const [path, [file, contentType]] of Object.entries(FILES)) {
    files.set(path, { body: readFileSync(join(PUBLIC_DIR, file)), contentType })
  }
  return files
}
