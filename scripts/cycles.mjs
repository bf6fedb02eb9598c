// Import-cycle gate (`pnpm cycles`): no package's src/ may have a cycle of runtime imports. Cycles
// made only through `import type` are erased from the built code and are listed for information.
// Fails on any runtime cycle not covered by ALLOWED below.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import madge from 'madge'

/**
 * Runtime cycles tolerated for now, each with its reason. An entry covers every cycle made only of
 * the files it lists; an entry that covers nothing any more is reported, so it gets removed.
 */
const ALLOWED = []

async function cycles(src, skipTypeImports) {
  const graph = await madge(src, {
    fileExtensions: ['ts'],
    tsConfig: 'tsconfig.base.json',
    detectiveOptions: { ts: { skipTypeImports }, tsx: { skipTypeImports } },
  })
  return graph.circular()
}

const show = (cycle) => [...cycle, cycle[0]].join(' -> ')
const used = new Set()
let failed = false
for (const pkg of readdirSync('packages').sort()) {
  const src = join('packages', pkg, 'src')
  if (!existsSync(src)) continue
  const runtime = await cycles(src, true)
  const runtimeNames = new Set(runtime.map((cycle) => [...cycle].sort().join()))
  for (const cycle of runtime) {
    const entry = ALLOWED.find((e) => e.pkg === pkg && cycle.every((file) => e.files.includes(file)))
    if (entry) used.add(entry)
    else failed = true
    console.log(`${pkg}: ${entry ? 'allowed cycle' : 'CYCLE'} ${show(cycle)}`)
  }
  for (const cycle of await cycles(src, false)) {
    if (!runtimeNames.has([...cycle].sort().join())) console.log(`${pkg}: type-only cycle ${show(cycle)}`)
  }
  if (runtime.length === 0) console.log(`${pkg}: no runtime import cycle`)
}
for (const entry of ALLOWED) {
  if (!used.has(entry)) console.log(`allow-list entry covers no cycle any more (remove it): ${entry.pkg}`)
}
if (failed) {
  console.error('Runtime import cycles found (CYCLE above): break them, or allow-list one with its reason.')
  process.exit(1)
}
