import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** One file of the live page, read once at startup. */
export interface StaticFile {
  path: string
  body: Buffer
  contentType: string
}

const PUBLIC_DIR = join(import.meta.dirname, '..', 'public')

const FILES: [path: string, file: string, contentType: string][] = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
]

/**
 * Loads the live page's files from `public/` into memory: a fixed list, so no request path ever
 * reaches the file system.
 *
 * @example
 * for (const file of loadStaticFiles()) app.get(file.path, (_, reply) => reply.type(file.contentType).send(file.body))
 */
export function loadStaticFiles(): StaticFile[] {
  return FILES.map(([path, file, contentType]) => ({
    path,
    body: readFileSync(join(PUBLIC_DIR, file)),
    contentType,
  }))
}
