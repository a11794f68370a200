// Issue 48 item 5: ten weight-10 entries answered 73.8 MB against the 25 MB limit (it was checked
// once per window), and /health waited 2.5–17 s behind a window of heavy entries. Each answer is
// now charged as it is produced, and the batch yields whenever it has held the event loop.
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, type StartedNode, startDevNode } from './live-node.ts'

const ADDR = '0x00000000000000000000000000000000000b16b1'
const LIMIT = 1_000_000

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0')
/** Runtime: counts `loops` down to zero (26 gas a turn), then returns `size` zero bytes. */
function loopThenReturn(loops: number, size: number): string {
  // PUSH3 loops; JUMPDEST PUSH1 1 SWAP1 SUB DUP1 PUSH1 4 JUMPI; POP; PUSH3 size PUSH1 0 RETURN
  return `0x62${hex(loops, 3)}5b600190038060045750` + `62${hex(size, 3)}6000f3`
}

/** A batch of eth_calls of `code` (put at ADDR by a state override), each with its own calldata. */
function calls(n: number, code: string) {
  return Array.from({ length: n }, (_, i) => ({
    jsonrpc: '2.0',
    id: i,
    method: 'eth_call',
    params: [{ to: ADDR, data: `0x${hex(i, 4)}`, gas: '0x2dc6c0' }, 'latest', { [ADDR]: { code } }],
  }))
}

/**
 * GETs /health and /ready in turn, each on a new connection, from a worker thread (its own event
 * loop: this thread's is the node's), until told to stop; answers every probe's latency in ms.
 * It says 'warm' after a first probe of each, which are not counted.
 */
const PROBER = `
const http = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
let stop = false
const probes = []
parentPort.on('message', () => { stop = true })
const get = (path) => new Promise((resolve, reject) => {
  const t0 = performance.now()
  http.get(workerData.url + path, { agent: false }, (res) => {
    res.resume()
    res.on('end', () => resolve({ path, status: res.statusCode, ms: performance.now() - t0 }))
  }).on('error', reject)
})
;(async () => {
  await get('health')
  await get('ready')
  parentPort.postMessage('warm')
  for (let i = 0; !stop; i++) {
    probes.push(await get(i % 2 ? 'ready' : 'health'))
    await new Promise((r) => setTimeout(r, 10))
  }
  parentPort.postMessage(probes)
})().catch((err) => parentPort.postMessage(String(err)))
`

interface Probe {
  path: string
  status: number
  ms: number
}

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode({ batchResponseLimit: LIMIT })
  url = node.url.endsWith('/') ? node.url : `${node.url}/`
})
afterAll(async () => {
  await node?.close()
})

describe('a batch of heavy entries', () => {
  it('answers within the response limit: the entries past it carry -32003', async () => {
    // Ten calls of 200,000 bytes each: ~400 KB of hex per answer, ~4 MB in all, against 1 MB.
    const r = await post(url, calls(10, loopThenReturn(1, 200_000)))
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(LIMIT)
    const answers = r.json as { id: number; result?: string; error?: { code: number; message: string } }[]
    expect(answers.map((a) => a.id)).toEqual([...Array(10).keys()])
    expect(answers.slice(0, 2).map((a) => a.result?.length)).toEqual([400_002, 400_002])
    for (const a of answers.slice(2)) expect(a.error).toEqual({ code: -32003, message: 'response too large' })
  })

  it('keeps /health and /ready answered while it runs', async () => {
    const heavy = loopThenReturn(60_000, 20_000)
    // The EVM's first runs of a loop are slower while V8 compiles it: warmed here, not measured.
    await post(url, calls(2, heavy))
    const prober = new Worker(PROBER, { eval: true, workerData: { url } })
    // Its first probes (a new thread's first connections) are not counted.
    const warm = new Promise((resolve) => prober.once('message', resolve))
    expect(await warm).toBe('warm')
    // Twenty calls of ~50 ms of EVM work each (weight 5: before, one window of 20 that held the
    // loop ~1 s unloaded).
    const t0 = performance.now()
    const r = await post(url, calls(20, heavy))
    const batchMs = performance.now() - t0
    const report = new Promise<Probe[] | string>((resolve) => prober.once('message', resolve))
    prober.postMessage('stop')
    const probes = await report
    await prober.terminate()
    if (typeof probes === 'string') throw new Error(`the prober failed: ${probes}`)
    const answers = r.json as { result?: string; error?: unknown }[]
    expect(answers.filter((a) => a.result?.length === 40_002)).toHaveLength(20)
    expect(probes.every((p) => p.status === 200)).toBe(true)
    // None waited long: a turn comes after each entry, so a probe waits for two entries at most,
    // not for the window (before: the loop was held for the whole window, nearly all the batch's
    // time). Well under 500 ms unloaded; on a machine so loaded that the batch takes over 2 s,
    // under a quarter of its time.
    const worst = Math.max(...probes.map((p) => p.ms))
    expect(worst, `worst probe ${worst} ms in a batch of ${batchMs} ms`).toBeLessThan(Math.max(500, batchMs / 4))
    // And they ran all along the batch, not only before or after it.
    expect(probes.length).toBeGreaterThanOrEqual(4)
  })
})
