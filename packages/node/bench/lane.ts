// The in-process cost of one plain POST through the RPC port's fast lane — head scan, edge checks,
// request id, dispatch, handler, response text and head — without the kernel, the client or Node's
// socket streams: the JavaScript a cheap read costs, measured steadily enough to A/B a change on a
// noisy machine (HTTP runs under wrk drift ±10% there). A dev node is started in process and a
// stand-in socket is handed to its HTTP server as a new connection; each request is one 'data'
// event, answered (written) in the same turn.
//   node --import tsx packages/node/bench/lane.ts   (LANE_N=100000 requests a round, LANE_ROUNDS=10;
//   LANE_METHOD=eth_blockNumber; prints the fastest round's µs a request: noise only adds)
// Under tsx every closure is named at creation (esbuild's keepNames), ~1 µs a request more than the
// built dist/: compare builds with builds, or sources with sources.
import { EventEmitter } from 'node:events'
import type { Server } from 'node:http'
import { silentLogger } from '@cairn/utils'
import { loadConfig } from '../src/config/load.ts'
import { startNode } from '../src/node.ts'

/** What the lane and the server's connection listeners touch on a socket; writes are kept, not sent. */
class StandInSocket extends EventEmitter {
  destroyed = false
  readonly remoteAddress = '127.0.0.1'
  readonly remotePort = 40_000
  written = 0
  last = ''
  setNoDelay(): this {
    return this
  }
  setTimeout(): this {
    return this
  }
  write(text: string): boolean {
    this.written++
    this.last = text
    return true
  }
  isPaused(): boolean {
    return false
  }
  resume(): this {
    return this
  }
  pause(): this {
    return this
  }
  end(): this {
    return this
  }
  destroy(): this {
    this.destroyed = true
    return this
  }
}

export interface LaneFigures {
  method: string
  microsPerRequest: number
}

export async function runLane(opts: { method: string; n: number; rounds: number }): Promise<LaneFigures> {
  const config = loadConfig({
    flags: {
      dev: true,
      ephemeral: true,
      'http.port': 0,
      'http.addr': '127.0.0.1',
      'log.level': 'silent',
      'rpc.threads': 0,
    },
    env: {},
  })
  const node = await startNode(config, { logger: silentLogger })
  try {
    const server = (node.rpc as unknown as { app: { server: Server } }).app.server
    const socket = new StandInSocket()
    server.emit('connection', socket)
    const params = opts.method === 'eth_getBalance' ? [node.accounts[0]?.address, 'latest'] : []
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: opts.method, params })
    const request = Buffer.from(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1:8545\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    )
    let best = Number.POSITIVE_INFINITY
    for (let round = 0; round < opts.rounds; round++) {
      const before = socket.written
      const t0 = performance.now()
      // A copy per request, as a socket gives each read its own buffer.
      for (let i = 0; i < opts.n; i++) socket.emit('data', Buffer.from(request))
      await new Promise((resolve) => setImmediate(resolve))
      const ms = performance.now() - t0
      if (socket.written - before !== opts.n || !socket.last.startsWith('HTTP/1.1 200')) {
        throw new Error(`answered ${socket.written - before} of ${opts.n}; the last: ${socket.last}`)
      }
      best = Math.min(best, (ms * 1000) / opts.n)
    }
    return { method: opts.method, microsPerRequest: best }
  } finally {
    await node.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await runLane({
    method: process.env.LANE_METHOD ?? 'eth_getBalance',
    n: Number(process.env.LANE_N ?? 100_000),
    rounds: Number(process.env.LANE_ROUNDS ?? 10),
  })
  console.log(`${f.method}: ${f.microsPerRequest.toFixed(2)} µs a request through the fast lane (fastest round)`)
}
