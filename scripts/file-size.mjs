// File-size gate (`pnpm file-size`): no source file under packages/*/src may be longer than
// MAX_LINES lines, so source stays in small files grouped by role. Fails listing every offender.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const MAX_LINES = 400

/**
 * Files tolerated over the limit for now, each with its reason. An entry whose file is back under
 * the limit (or gone) is reported, so it gets removed.
 */
const ALLOWED = []

const lines = (text) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
const offenders = []
const used = new Set()
for (const pkg of readdirSync('packages').sort()) {
  const src = join('packages', pkg, 'src')
  if (!existsSync(src)) continue
  const files = readdirSync(src, { recursive: true })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(src, name).split('\\').join('/'))
    .sort()
  for (const file of files) {
    const count = lines(readFileSync(file, 'utf8'))
    if (count <= MAX_LINES) continue
    if (ALLOWED.includes(file)) {
      used.add(file)
      console.log(`allowed: ${file} (${count} lines)`)
    } else {
      offenders.push(`${file} (${count} lines)`)
    }
  }
}
for (const file of ALLOWED) {
  if (!used.has(file))
    console.log(`allow-list entry is not over ${MAX_LINES} lines any more (remove it): ${file}`)
}
if (offenders.length > 0) {
  console.error(`Source files over ${MAX_LINES} lines (split them by role):`)
  for (const offender of offenders) console.error(`  ${offender}`)
  process.exit(1)
}
console.log(`every packages/*/src file is at most ${MAX_LINES} lines`)
