import net from 'node:net'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { faultProxy, type RedisServer, startRedis } from '../src/index'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server.stop()
})

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket))
    socket.once('error', reject)
  })
}

function ping(socket: net.Socket, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), timeout)
    socket.once('data', (chunk) => {
      clearTimeout(timer)
      resolve(chunk.toString())
    })
    socket.write('PING\r\n')
  })
}

describe('faultProxy', () => {
  it('passes traffic through to the target', async () => {
    const proxy = await faultProxy({ host: server.host, port: server.port })
    const client = new Redis(proxy.port, '127.0.0.1')
    await client.set('proxied', '1')
    expect(await client.get('proxied')).toBe('1')
    client.disconnect()
    await proxy.close()
  })

  it('adds latency in each direction', async () => {
    const proxy = await faultProxy(server.url)
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`)
    const socket = await connectRaw(proxy.port)
    await ping(socket, 1_000)
    proxy.latency(100)
    const started = Date.now()
    expect(await ping(socket, 2_000)).toBe('+PONG\r\n')
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    socket.destroy()
    await proxy.close()
  })

  it('black-holes: accepts connections but never answers', async () => {
    const proxy = await faultProxy({ host: server.host, port: server.port })
    proxy.blackHole()
    const socket = await connectRaw(proxy.port)
    await expect(ping(socket, 300)).rejects.toThrow('no answer')
    expect(proxy.connections).toBe(1)
    proxy.pass()
    const fresh = await connectRaw(proxy.port)
    expect(await ping(fresh, 1_000)).toBe('+PONG\r\n')
    fresh.destroy()
    socket.destroy()
    await proxy.close()
  })

  it('cut closes open connections and refuses new ones until pass()', async () => {
    const proxy = await faultProxy({ host: server.host, port: server.port })
    const socket = await connectRaw(proxy.port)
    await ping(socket, 1_000)
    const closed = new Promise((resolve) => socket.once('close', resolve))
    proxy.cut()
    await closed
    const refused = await connectRaw(proxy.port)
    await new Promise((resolve) => refused.once('close', resolve))
    expect(proxy.connections).toBe(0)
    proxy.pass()
    const again = await connectRaw(proxy.port)
    expect(await ping(again, 1_000)).toBe('+PONG\r\n')
    again.destroy()
    await proxy.close()
  })
})
