import type { Advice } from '@hotpath/metrics'
import { runLoad } from './load'
import { formatReport } from './report'

// Drives a running token manager (`pnpm --filter token-manager start`).
const url = process.env.TOKEN_MANAGER_URL ?? 'http://127.0.0.1:8081'
const seconds = Number(process.env.LOAD_SECONDS ?? 20)
console.log(`driving ${url} for ${seconds} s...`)
const result = await runLoad({
  url,
  durationMs: seconds * 1000,
  readers: 16,
  jobsPerSecond: 10,
  progress: true,
})
const stats = (await (await fetch(`${url}/stats`)).json()) as Record<string, unknown>
const advice = (await (await fetch(`${url}/advice`)).json()) as Advice[]
console.log()
console.log(formatReport(result, stats, advice))
