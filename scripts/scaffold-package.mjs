// Writes package.json + tsdown.config.ts for a public package (used once per package).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'

const [name, description, ...entries] = process.argv.slice(2)
const dir = `packages/${name}`
mkdirSync(`${dir}/src`, { recursive: true })
const subpaths = ['index', ...entries]
const exportsMap = {}
for (const entry of subpaths) {
  const key = entry === 'index' ? '.' : `./${entry}`
  exportsMap[key] = {
    '@hotpath/source': `./src/${entry}.ts`,
    import: { types: `./dist/${entry}.d.mts`, default: `./dist/${entry}.mjs` },
    require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
  }
}
exportsMap['./package.json'] = './package.json'
const pkg = {
  name: `@hotpath/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  main: './dist/index.cjs',
  module: './dist/index.mjs',
  types: './dist/index.d.cts',
  exports: exportsMap,
  files: ['dist', 'LICENSE'],
  scripts: { build: 'tsdown' },
  dependencies: name === 'core' ? {} : { '@hotpath/core': 'workspace:^' },
}
writeFileSync(`${dir}/package.json`, `${JSON.stringify(pkg, null, 2)}\n`)
copyFileSync('LICENSE', `${dir}/LICENSE`)
writeFileSync(
  `${dir}/tsdown.config.ts`,
  `import { defineConfig } from 'tsdown'\n\nexport default defineConfig({\n  entry: [${subpaths.map((e) => `'src/${e}.ts'`).join(', ')}],\n  format: ['esm', 'cjs'],\n  dts: true,\n  platform: 'node',\n  target: 'node20.19',\n  clean: true,\n})\n`,
)
for (const entry of subpaths) {
  if (!existsSync(`${dir}/src/${entry}.ts`)) writeFileSync(`${dir}/src/${entry}.ts`, 'export {}\n')
}
