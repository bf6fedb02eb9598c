import type { Advice } from '@hotpath/metrics'
import { runLoad } from './load'
import { formatReport } from './report'

// Drives a running router (`pnpm --filter model-router start`) and prints the report.
const url = process.env.ROUTER_URL ?? 'http://127.0.0.1:8080'
const seconds = Number(process.env.LOAD_SECONDS ?? 20)
const concurrency = Number(process.env.LOAD_CONCURRENCY ?? 32)
console.log(`driving ${url} for ${seconds} s with ${concurrency} clients...`)
const result = await runLoad({ url, durationMs: seconds * 1000, concurrency, progress: true })
const stats = (await (await fetch(`${url}/stats`)).json()) as Record<string, unknown>
const advice = (await (await fetch(`${url}/advice`)).json()) as Advice[]
console.log()
console.log(formatReport(result, stats, advice))
