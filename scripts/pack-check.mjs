// Packaging gate: `publint --strict` and `attw --pack` on every public package under packages/,
// and the root LICENSE shipped by each (a copy in the package, listed in `files`).
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const license = readFileSync('LICENSE', 'utf8')
const failures = []
for (const dir of readdirSync('packages').sort()) {
  const root = join('packages', dir)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  if (pkg.private) continue
  const copy = join(root, 'LICENSE')
  if (!existsSync(copy) || readFileSync(copy, 'utf8') !== license || !pkg.files?.includes('LICENSE')) {
    console.log(`${pkg.name}: LICENSE ... FAILED (copy the root LICENSE into ${root} and list it in "files")`)
    failures.push(`${pkg.name} (LICENSE)`)
  }
  for (const [tool, args] of [
    ['publint', ['--strict']],
    ['attw', ['--pack', '.', '--format', 'json']],
  ]) {
    process.stdout.write(`${pkg.name}: ${tool} ... `)
    try {
      const out = execFileSync('pnpm', ['exec', tool, ...args], {
        cwd: root,
        stdio: 'pipe',
        encoding: 'utf8',
      })
      if (tool === 'attw') {
        // attw exits 0 for a package without types; treat that, and any problem, as a failure.
        const { analysis, problems } = JSON.parse(out)
        // `problems` is an array or an object keyed by kind, depending on the attw version.
        const count = Array.isArray(problems) ? problems.length : Object.keys(problems ?? {}).length
        if (!analysis.types || count > 0) {
          throw Object.assign(new Error('attw'), {
            stdout: JSON.stringify({ types: analysis.types, problems }, null, 2),
          })
        }
      }
      console.log('ok')
    } catch (error) {
      console.log('FAILED')
      console.log(`${error.stdout ?? ''}${error.stderr ?? ''}`)
      failures.push(`${pkg.name} (${tool})`)
    }
  }
}
if (failures.length > 0) {
  console.error(`Packaging problems in: ${failures.join(', ')}`)
  process.exit(1)
}
