// Module resolve hook: an example run against the built packages must load each package's
// dist/ through its `exports` (import/require conditions); a resolution to packages/*/src means
// the `@hotpath/source` condition leaked in, and the run would prove nothing about dist/.
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context)
  if (/\/packages\/[^/]+\/src\//.test(result.url)) {
    throw new Error(`${specifier} resolved to ${result.url}: the dist run must load packages/*/dist`)
  }
  return result
}
