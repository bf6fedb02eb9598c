// Vitest global setup: the process tests run plain `node` on each package's built `dist/`, so a
// package whose sources are newer than its build is built again before any test starts.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

function stalePackages(): string[] {
  return readdirSync(join(root, 'packages')).filter((name) => {
    const dir = join(root, 'packages', name)
    if (!existsSync(join(dir, 'tsdown.config.ts'))) return false
    const dist = join(dir, 'dist')
    return (
      !existsSync(dist) ||
      newest(dist) < Math.max(newest(join(dir, 'src')), statSync(join(dir, 'package.json')).mtimeMs)
    )
  })
}

export default function setup(): void {
  const stale = stalePackages()
  if (stale.length === 0) return
  console.log(`building ${stale.join(', ')} for the process tests (sources newer than dist/)`)
  execFileSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' })
}
