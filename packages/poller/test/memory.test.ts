import { AsyncResource } from 'node:async_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { getHeapSnapshot } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { poll } from '../src/index'

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

/** Count and largest shallow size of the JS objects of each constructor name. */
async function objectsByName(): Promise<Map<string, { count: number; largest: number }>> {
  let text = ''
  for await (const chunk of getHeapSnapshot()) text += chunk
  const { snapshot, nodes, strings } = JSON.parse(text) as HeapSnapshot
  const fields = snapshot.meta.node_fields
  const width = fields.length
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const typeAt = fields.indexOf('type')
  const objectType = snapshot.meta.node_types[0].indexOf('object')
  const byName = new Map<string, { count: number; largest: number }>()
  for (let i = 0; i < nodes.length; i += width) {
    if (nodes[i + typeAt] !== objectType) continue
    const name = strings[nodes[i + nameAt]!]!
    const size = nodes[i + sizeAt]!
    const seen = byName.get(name)
    if (seen === undefined) byName.set(name, { count: 1, largest: size })
    else {
      seen.count++
      if (size > seen.largest) seen.largest = size
    }
  }
  return byName
}

describe('memory held by a running poll', () => {
  // Thousands of pollers run at once and each check reads its poll's run after an idle interval,
  // from memory rather than cache: a check's cost follows the bytes the run spans.
  it('a plain poll keeps at most 15 words on its run besides an AsyncResource and creates no extras', async () => {
    // What a bare AsyncResource holds differs between Node versions (Node 24 keeps one more field).
    class BareResource extends AsyncResource {}
    const bare = Array.from({ length: 10 }, () => new BareResource('memory-test'))
    let stopped = false
    const polls = Array.from({ length: 200 }, () => poll(() => stopped, { interval: 20 }))
    await sleep(50) // past the first checks: their context exists
    const objects = await objectsByName()
    stopped = true
    await Promise.all(polls)

    const runs = objects.get('PollRun')
    expect(runs?.count).toBe(200)
    expect(objects.get('BareResource')?.count).toBe(bare.length)
    // 8-byte words beyond the AsyncResource: the timer entry's three fields and the brand of its
    // private methods, the run's own eleven fields. The retry-after hint, the failure count and
    // the limiter links live in the extras of the polls that use them, and a timer entry finds
    // its service through its bucket.
    expect(runs!.largest).toBeLessThanOrEqual(objects.get('BareResource')!.largest + 15 * 8)
    expect(objects.get('PollExtras')?.count ?? 0).toBe(0)
  }, 30_000) // a heap snapshot of the test worker takes about a second, more on a loaded machine
})
