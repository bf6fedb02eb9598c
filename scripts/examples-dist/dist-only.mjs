// Preload (`node --import`) of the dist runs of the examples: registers dist-only-hooks.mjs, which
// refuses any hotpath package module resolved to its TypeScript source.
import { register } from 'node:module'

register('./dist-only-hooks.mjs', import.meta.url)
