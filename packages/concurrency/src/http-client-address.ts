// Which address a request is counted under: the socket's peer, or the nearest untrusted hop of
// X-Forwarded-For when proxies are trusted (`trustProxy`).
import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import { checkInteger, invalidOption } from '@hotpath/core'

const SUBNETS: Record<string, [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
}

/** `::ffff:1.2.3.4` (how a dual-stack socket reports an IPv4 peer) as `1.2.3.4`. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}

function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const family = isIP(address)
  return family === 4 ? 'ipv4' : family === 6 ? 'ipv6' : undefined
}

/** The trust test for each hop, as express's `trust proxy` setting reads the same values. */
export function trustTest(value: unknown): ((address: string, hop: number) => boolean) | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return () => true
  if (typeof value === 'number') {
    const hops = checkInteger('trustProxy', value, { min: 0 })
    return hops === 0 ? undefined : (_address, hop) => hop < hops
  }
  if (typeof value === 'function') return value as (address: string, hop: number) => boolean
  const entries = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(entries)) {
    throw invalidOption('trustProxy', 'a boolean, a hop count, a list of addresses or a function', value)
  }
  const list = new BlockList()
  for (const raw of entries) {
    const entry = typeof raw === 'string' ? raw.trim() : raw
    const preset = typeof entry === 'string' && Object.hasOwn(SUBNETS, entry) ? SUBNETS[entry] : undefined
    if (preset !== undefined) {
      for (const [network, prefix, family] of preset) list.addSubnet(network, prefix, family)
      continue
    }
    const [address = '', prefix, extra] = typeof entry === 'string' ? entry.split('/') : []
    const family = ipFamily(address)
    const bits = prefix === undefined ? undefined : Number(prefix)
    const max = family === 'ipv4' ? 32 : 128
    if (
      family === undefined ||
      extra !== undefined ||
      (bits !== undefined && (prefix === '' || !Number.isInteger(bits) || bits < 0 || bits > max))
    ) {
      throw invalidOption(
        'trustProxy',
        "IP addresses, subnets or 'loopback', 'linklocal', 'uniquelocal'",
        raw,
      )
    }
    list.addSubnet(address, bits ?? max, family)
  }
  return (address) => {
    const family = ipFamily(address)
    return family !== undefined && list.check(address, family)
  }
}

/**
 * The client address: the socket's peer, or with trusted proxies the first untrusted address
 * walking `X-Forwarded-For` from the right (the nearest hop) to the left.
 */
export function clientAddress(
  req: IncomingMessage,
  trust: ((address: string, hop: number) => boolean) | undefined,
): string {
  const peer = plainAddress(req.socket.remoteAddress ?? '')
  if (trust === undefined) return peer
  const forwarded = req.headers['x-forwarded-for']
  if (typeof forwarded !== 'string' || forwarded === '') return peer
  const hops = forwarded.split(',')
  let address = peer
  for (let hop = 0, i = hops.length - 1; i >= 0; hop++, i--) {
    if (!trust(address, hop)) return address
    address = plainAddress(hops[i]!.trim())
  }
  return address
}
