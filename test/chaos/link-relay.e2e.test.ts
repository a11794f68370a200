// The link relays in the testbed's real network (netlab.ts): two namespaces on the bridge, an echo
// server in one, a client in the other dialling the server's p2p address. The DNAT rule takes the
// connection through the relay of the link (the server sees the relay's source address for the
// client), the round trip grows by the two directions' latencies, and a partition (the iptables
// drops, rewritten for relayed connections) still cuts the link both ways. Skipped with the reason
// without root / namespaces / iptables.
import { type ChildProcess, spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { NetLab, netlabUnavailable } from './netlab.ts'
import { Prng } from './prng.ts'

const unavailable = netlabUnavailable()
const procs: ChildProcess[] = []
let lab: NetLab | undefined
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
  lab?.destroy()
})

const ECHO = `
const net = require('node:net')
net.createServer((s) => {
  s.on('data', (b) => s.write(b.toString() === 'who' ? s.remoteAddress : b))
}).listen(7000, process.argv[1], () => process.stdout.write('ready\\n'))`

// pings the echo at argv[1]:7000 on stdin lines; prints each answer and its round trip
const CLIENT = `
const net = require('node:net')
const s = net.connect({ host: process.argv[1], port: 7000, noDelay: true })
let t = 0
s.on('connect', () => process.stdout.write('ready\\n'))
s.on('data', (b) => process.stdout.write(b.toString() + ' ' + (performance.now() - t).toFixed(1) + '\\n'))
process.stdin.on('data', (b) => { t = performance.now(); s.write(b.toString().trim()) })`

function inNs(ns: string, script: string, arg: string): { proc: ChildProcess; next: () => Promise<string> } {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, arg], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  procs.push(proc)
  let err = ''
  proc.stderr?.on('data', (b: Buffer) => {
    err += b.toString()
  })
  const lines: string[] = []
  const waiting: ((l: string) => void)[] = []
  let buf = ''
  proc.stdout?.on('data', (b: Buffer) => {
    buf += b.toString()
    for (let k = buf.indexOf('\n'); k >= 0; k = buf.indexOf('\n')) {
      const line = buf.slice(0, k)
      buf = buf.slice(k + 1)
      const w = waiting.shift()
      if (w) w(line)
      else lines.push(line)
    }
  })
  const next = () => {
    const l = lines.shift()
    if (l !== undefined) return Promise.resolve(l)
    return new Promise<string>((resolve, reject) => {
      const w = (x: string) => {
        clearTimeout(t)
        resolve(x)
      }
      const t = setTimeout(() => {
        waiting.splice(waiting.indexOf(w), 1)
        reject(new Error(`no answer from ${ns}${err ? `: ${err}` : ''}`))
      }, 3_000)
      waiting.push(w)
    })
  }
  return { proc, next }
}

describe.skipIf(unavailable !== null)(
  `link relays in namespaces${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('relay the link through DNAT, add the latency, and still partition', { timeout: 30_000 }, async () => {
      lab = new NetLab()
      const a = lab.addHost()
      const b = lab.addHost()
      const prng = new Prng(1)
      await lab.startRelays(7000, () => prng.next())
      const relay = lab.relay as NonNullable<typeof lab.relay>
      const server = inNs(b.ns, ECHO, b.p2pIp)
      expect(await server.next()).toBe('ready')
      const client = inNs(a.ns, CLIENT, b.p2pIp)
      expect(await client.next()).toBe('ready')
      const ping = async (msg: string) => {
        client.proc.stdin?.write(`${msg}\n`)
        const [answer, ms] = (await client.next()).split(' ')
        return { answer, ms: Number(ms) }
      }
      // the server sees the relay's address for a, not a's own: the connection went through the relay
      expect((await ping('who')).answer).toBe(lab.relaySource(a))
      const base = (await ping('x')).ms
      lab.relayDelay(a, 80, 0)
      lab.relayDelay(b, 40, 0)
      const slow = (await ping('y')).ms
      expect(slow).toBeGreaterThanOrEqual(118)
      expect(slow).toBeLessThan(120 + base + 200)
      expect(relay.stats(a.index, b.index).connections).toBe(1)
      lab.heal()
      expect((await ping('z')).ms).toBeLessThan(100)
      // one-way: b's packets to a dropped (b answers through the relay's address for a)
      lab.drop(b, a)
      await expect(ping('lost')).rejects.toThrow(/no answer/)
      lab.heal()
      // TCP retransmits what the drop held back: the late answer, then a fresh ping
      expect((await client.next()).split(' ')[0]).toBe('lost')
      expect((await ping('back')).answer).toBe('back')
    })
  },
)
