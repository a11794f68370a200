// The testbed's userspace link emulator (link-relay.ts) on loopback, no namespaces: an echo server
// behind a relay; the added round trip is the two directions' latencies, bytes keep their order
// under jitter, a bandwidth cap paces a bulk send, settings change at run time, half-close passes.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { LinkRelay } from './link-relay.ts'
import { Prng } from './prng.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const f of cleanups.splice(0)) f()
})

async function server(onConn: (s: Socket) => void): Promise<number> {
  const srv: Server = createServer({ allowHalfOpen: true }, onConn)
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  cleanups.push(() => srv.close())
  return (srv.address() as { port: number }).port
}

async function relayTo(port: number): Promise<{ relay: LinkRelay; port: number }> {
  const prng = new Prng(7)
  const relay = new LinkRelay({ random: () => prng.next() })
  cleanups.push(() => relay.close())
  const p = await relay.listen(0, 1, { listenHost: '127.0.0.1', listenPort: 0, host: '127.0.0.1', port })
  return { relay, port: p }
}

async function dial(port: number): Promise<Socket> {
  const s = tcpConnect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true })
  cleanups.push(() => s.destroy())
  await new Promise<void>((r, j) => {
    s.once('connect', r)
    s.once('error', j)
  })
  return s
}

/** Median round trip of `n` one-byte pings through an echo. */
async function rtt(s: Socket, n: number): Promise<number> {
  const times: number[] = []
  for (let k = 0; k < n; k++) {
    const t = performance.now()
    await new Promise<void>((r) => {
      s.once('data', () => r())
      s.write('x')
    })
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(n / 2)] as number
}

describe('link relay', () => {
  it('adds each direction’s latency to the round trip, changed at run time', async () => {
    const echo = await server((s) => s.pipe(s))
    const { relay, port } = await relayTo(echo)
    const s = await dial(port)
    const base = await rtt(s, 5)
    expect(base).toBeLessThan(50)
    relay.set(0, 1, { latencyMs: 100 })
    relay.set(1, 0, { latencyMs: 60 })
    const slow = await rtt(s, 5)
    expect(slow).toBeGreaterThanOrEqual(158)
    expect(slow).toBeLessThan(160 + 150) // a loaded machine only makes timers later
    relay.reset()
    expect(await rtt(s, 5)).toBeLessThan(60)
    // a pinned (whole-run) setting survives a reset; a fault's change on top of it does not
    relay.pin(0, 1, { latencyMs: 30 })
    relay.set(0, 1, { latencyMs: 300 })
    relay.reset()
    expect(relay.get(0, 1).latencyMs).toBe(30)
    expect(relay.get(1, 0).latencyMs).toBe(0)
    relay.pin(0, 1, { latencyMs: 0 })
    expect(relay.stats(0, 1).connections).toBe(1)
    expect(relay.stats(0, 1).bytes).toBe(15)
    expect(relay.stats(1, 0).bytes).toBe(15)
  })

  it('keeps the order of the bytes under jitter larger than the gaps between chunks', async () => {
    const echo = await server((s) => s.pipe(s))
    const { relay, port } = await relayTo(echo)
    relay.set(0, 1, { latencyMs: 30, jitterMs: 30 })
    relay.set(1, 0, { latencyMs: 10, jitterMs: 10 })
    const s = await dial(port)
    const n = 150
    let got = ''
    const want = Array.from({ length: n }, (_, k) => `${k};`).join('')
    const done = new Promise<void>((r) =>
      s.on('data', (b: Buffer) => {
        got += b.toString()
        if (got.length >= want.length) r()
      }),
    )
    for (let k = 0; k < n; k++) {
      s.write(`${k};`)
      await new Promise((r) => setTimeout(r, 1)) // separate chunks, each with its own jitter
    }
    await done
    expect(got).toBe(want)
  })

  it('paces a bulk send to the bandwidth cap', async () => {
    let received = 0
    let gotAll: () => void = () => {}
    const all = new Promise<void>((r) => {
      gotAll = r
    })
    const total = 256 * 1024
    const sink = await server((s) => {
      s.on('data', (b: Buffer) => {
        received += b.length
        if (received >= total) gotAll()
      })
    })
    const { relay, port } = await relayTo(sink)
    relay.set(0, 1, { kbit: 2_048 }) // 256 KB/s: the 256 KB take about a second
    const s = await dial(port)
    const t = performance.now()
    s.write(Buffer.alloc(total, 1))
    await all
    const took = performance.now() - t
    expect(took).toBeGreaterThan(900)
    expect(took).toBeLessThan(3_000)
    expect(received).toBe(total)
  })

  it('passes a half-close: the answer after the client’s end still arrives, delayed', async () => {
    const srv = await server((s) => {
      let body = ''
      s.on('data', (b: Buffer) => {
        body += b.toString()
      })
      s.on('end', () => s.end(`got ${body}`))
    })
    const { relay, port } = await relayTo(srv)
    relay.set(0, 1, { latencyMs: 40 })
    relay.set(1, 0, { latencyMs: 40 })
    const s = await dial(port)
    let answer = ''
    s.on('data', (b: Buffer) => {
      answer += b.toString()
    })
    const ended = new Promise<void>((r) => s.once('end', () => r()))
    const t = performance.now()
    s.end('hello')
    await ended
    expect(answer).toBe('got hello')
    expect(performance.now() - t).toBeGreaterThanOrEqual(78)
  })
})
