// The fast lane as a request-smuggling (HTTP desync) surface. The rule: for any byte stream, a
// client sees from the server with the lane what it sees without it (every request through Node's
// parser, llhttp, and Fastify), or the lane refuses more safely; and every request the lane answers
// is one llhttp reads with the same bounds. Each adversarial request of RFC 9112's sore spots is sent
// alone and pipelined, and fast-check streams of them are cut at random points; the answers of the
// two servers are compared, and each answer is matched against llhttp's own framing of the stream.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FastLane } from '../../src/fast/fast-lane.ts'
import {
  type EchoServer,
  echoServer,
  type Heard,
  llhttpFrames,
  normal,
  type Response,
  responses,
  talk,
} from './wire.ts'

const BODY_LIMIT = 1024
let lane: EchoServer
let full: EchoServer
beforeAll(async () => {
  lane = await echoServer({ fastLane: true }, BODY_LIMIT)
  full = await echoServer({ fastLane: false }, BODY_LIMIT)
})
afterAll(async () => {
  await lane.close()
  await full.close()
})

const call = (id: number, method = 'eth_chainId') => `{"jsonrpc":"2.0","id":${id},"method":"${method}"}`
/** A request of the lane's kind, its headers first, then any more. */
const plain = (id: number, ...more: string[]) => {
  const body = call(id)
  return [
    'POST / HTTP/1.1',
    'Host: localhost',
    'Content-Type: application/json',
    `Content-Length: ${body.length}`,
    ...more,
    '',
    body,
  ].join('\r\n')
}
/** Ends a stream: a request only Node serves, after which the server closes (unless the stream is out of step by then). */
const SENTINEL = 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'

/** Whether a response is a refusal of the byte stream itself (Fastify's clientError answers, the lane's 408), written out of turn. */
function isStreamError(r: Response): boolean {
  if (r.status === 408 && !r.headers.some(([k]) => k === 'content-length')) return true
  return (
    r.headers.length === 2 &&
    /^\{"error":"[^"]+","message":"(Client Error|Client Timeout|Exceeded maximum allowed HTTP header size)","statusCode":4\d\d\}$/.test(
      r.body,
    )
  )
}

/** Whether an answer ends its connection. */
const closing = (r: Response | undefined) => r?.headers.some(([k, v]) => k === 'connection' && v === 'close') ?? false

interface Verdict {
  /** The two servers gave the same answers and ended the same way (else one lost answers to a stream error: see `agree`). */
  same: boolean
}

/**
 * Checks that `a` (with the lane) and `b` (without) agree on `stream`, and that each answer matches the
 * request llhttp reads at its place: an answer naming a call's id answers the request whose body holds it.
 *
 * Node itself is not deterministic here: a request llhttp cannot read makes Fastify write its 400 at
 * once and destroy the socket, so answers to earlier requests still being made are lost, or not,
 * depending on where the TCP segments fell. The lane answers its requests before it hands the rest
 * over, so it loses fewer. So: answers equal one for one as far as both go; if one server gave fewer,
 * it stopped at a stream error (or a closing answer) and closed, and so did the other.
 */
function agree(stream: Buffer, a: Heard, b: Heard, what: string): Verdict {
  const frames = llhttpFrames(stream)
  const final = (h: Heard) => {
    const { list, rest } = responses(h.bytes)
    expect(rest, `${what}: nothing but whole responses`).toBe('')
    const answers = list.filter((r) => r.status >= 200)
    const last = answers.at(-1)
    const error = last !== undefined && isStreamError(last) ? last : undefined
    const kept = error ? answers.slice(0, -1) : answers
    // After an answer that closes, whether Node still writes its 400 to the bytes that follow
    // depends on whether they arrive before it has ended its side: not compared.
    return { answers: kept, error: closing(kept.at(-1)) ? undefined : error }
  }
  const la = final(a)
  const lb = final(b)
  const context = `${what}\nstream ${JSON.stringify(stream.toString('latin1'))}\nllhttp: ${frames.requests.length} requests${frames.error ? `, then ${frames.error}` : ''}\nwith the lane (${a.end}):\n${la.answers.map(normal).join('\n')}\n${la.error ? normal(la.error) : ''}\nwithout (${b.end}):\n${lb.answers.map(normal).join('\n')}\n${lb.error ? normal(lb.error) : ''}`
  // Every answer is to the request llhttp reads at its place.
  for (const { answers } of [la, lb]) {
    expect(answers.length, context).toBeLessThanOrEqual(frames.requests.length)
    answers.forEach((r, i) => {
      const id = /^\{"jsonrpc":"2\.0","id":(\d+),/.exec(r.body)?.[1]
      if (id !== undefined) expect(frames.requests[i]?.body, context).toContain(`"id":${id},`)
    })
  }
  const n = Math.min(la.answers.length, lb.answers.length)
  expect(la.answers.slice(0, n).map(normal), context).toEqual(lb.answers.slice(0, n).map(normal))
  if (la.answers.length === lb.answers.length) {
    expect(la.error && normal(la.error), context).toEqual(lb.error && normal(lb.error))
    expect(a.end, context).toBe(b.end)
    return { same: true }
  }
  // One lost answers. Without the lane: it closed after a stream error or an answer that closes, or
  // it hangs (an upgrade while an answer is still being made); with the lane: it closed after a
  // stream error or an answer that closes (never a hang where Node answers).
  const cut = (h: Heard, l: typeof la) => h.end === 'closed' && (l.error !== undefined || closing(l.answers.at(-1)))
  if (la.answers.length < lb.answers.length) expect(cut(a, la) && b.end === 'closed', context).toBe(true)
  else expect(a.end === 'closed' && (cut(b, lb) || b.end === 'quiet'), context).toBe(true)
  return { same: false }
}

/** Sends `stream` in `pieces` to both servers at once; checks they agree; the lane's counters' change. */
async function both(stream: string | Buffer, cuts: number[] = [], quietMs = 120) {
  const buf = typeof stream === 'string' ? Buffer.from(stream, 'latin1') : stream
  const at = [...new Set(cuts.map((c) => c % buf.length).filter((c) => c > 0))].sort((x, y) => x - y)
  const pieces = [0, ...at].map((from, i) => buf.subarray(from, at[i] ?? buf.length))
  const before = await lane.lane()
  const [a, b] = await Promise.all([
    talk(lane.port, pieces, { gapMs: 1, quietMs }),
    talk(full.port, pieces, { gapMs: 1, quietMs }),
  ])
  const after = await lane.lane()
  return {
    a,
    b,
    buf,
    answered: after.answered - before.answered,
    handedOver: after.handedOver - before.handedOver,
  }
}

describe('the fast lane and request smuggling', () => {
  const body = call(1)
  const n = body.length
  const head = (...lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`
  const H = ['Host: localhost', 'Content-Type: application/json']
  const post = (...lines: string[]) => `${head('POST / HTTP/1.1', ...H, ...lines)}${body}`
  const chunked = `${n.toString(16)}\r\n${body}\r\n0\r\n\r\n`
  /** Name, request, who answers it: the lane, or Node (llhttp and Fastify, which may refuse it). */
  const cases: [string, string, 'lane' | 'node'][] = [
    ['plain', post(`Content-Length: ${n}`), 'lane'],
    ['Content-Length twice, same value', post(`Content-Length: ${n}`, `Content-Length: ${n}`), 'node'],
    ['Content-Length twice, other values', post(`Content-Length: ${n}`, `Content-Length: ${n - 10}`), 'node'],
    ['Content-Length twice, names in other cases', post(`Content-Length: ${n}`, `content-length: ${n}`), 'node'],
    ['Content-Length with leading zeros', post(`Content-Length: 000${n}`), 'lane'],
    ['Content-Length with a plus sign', post(`Content-Length: +${n}`), 'node'],
    ['Content-Length negative', post(`Content-Length: -${n}`), 'node'],
    ['Content-Length without a space', post(`Content-Length:${n}`), 'lane'],
    ['Content-Length after a tab', post(`Content-Length:\t${n}`), 'lane'],
    ['Content-Length before spaces', post(`Content-Length: ${n}   `), 'lane'],
    ['Content-Length before a tab', post(`Content-Length: ${n}\t`), 'node'],
    ['Content-Length before a space and a tab', post(`Content-Length: ${n} \t`), 'node'],
    ['Content-Length in hex', post(`Content-Length: 0x${n.toString(16)}`), 'node'],
    ['Content-Length with a letter', post(`Content-Length: ${n}a`), 'node'],
    ['Content-Length as a list', post(`Content-Length: ${n}, ${n}`), 'node'],
    ['Content-Length as a list without space', post(`Content-Length: ${n},${n}`), 'node'],
    ['Content-Length with an inner space', post(`Content-Length: ${n} ${n}`), 'node'],
    ['Content-Length empty', post('Content-Length:'), 'node'],
    [
      'Content-Length past the body limit',
      `${head('POST / HTTP/1.1', ...H, 'Content-Length: 2000')}${'x'.repeat(2000)}`,
      'node',
    ],
    ['Content-Length of 20 digits', post('Content-Length: 99999999999999999999'), 'node'],
    ['Content-Length with a NUL', post(`Content-Length: ${n}\0`), 'node'],
    ['no Content-Length', post(), 'node'],
    [
      'Transfer-Encoding chunked and Content-Length',
      `${head('POST / HTTP/1.1', ...H, `Content-Length: ${n}`, 'Transfer-Encoding: chunked')}${chunked}`,
      'node',
    ],
    [
      'Content-Length after Transfer-Encoding chunked',
      `${head('POST / HTTP/1.1', ...H, 'Transfer-Encoding: chunked', `Content-Length: ${chunked.length}`)}${chunked}`,
      'node',
    ],
    ['Transfer-Encoding chunked', `${head('POST / HTTP/1.1', ...H, 'Transfer-Encoding: chunked')}${chunked}`, 'node'],
    [
      'Transfer-Encoding in other case',
      `${head('POST / HTTP/1.1', ...H, 'tRANSFER-eNCODING: Chunked')}${chunked}`,
      'node',
    ],
    [
      'Transfer-Encoding identity and Content-Length',
      post('Transfer-Encoding: identity', `Content-Length: ${n}`),
      'node',
    ],
    [
      'Transfer-Encoding with space before the colon',
      `${head('POST / HTTP/1.1', ...H, 'Transfer-Encoding : chunked', `Content-Length: ${n}`)}${body}`,
      'node',
    ],
    [
      'header names in mixed case',
      `${head('POST / HTTP/1.1', 'hOsT: localhost', 'CONTENT-TYPE: application/json', `cOnTeNt-LeNgTh: ${n}`)}${body}`,
      'lane',
    ],
    ['space before the colon', post(`Content-Length : ${n}`), 'node'],
    ['tab before the colon', post(`Content-Length\t: ${n}`), 'node'],
    ['obs-fold of Content-Length', post('Content-Length:', ` ${n}`), 'node'],
    ['obs-fold of another header', post(`Content-Length: ${n}`, 'X-A: b', '\tc'), 'node'],
    [
      'obs-fold as the first header',
      `${head('POST / HTTP/1.1', ' X-A: b', ...H, `Content-Length: ${n}`)}${body}`,
      'node',
    ],
    ['a bare LF ending a header line', post(`X-A: b\nContent-Length: ${n}`), 'node'],
    [
      'bare LF line endings throughout',
      `POST / HTTP/1.1\nHost: localhost\nContent-Type: application/json\nContent-Length: ${n}\n\n${body}`,
      'node',
    ],
    ['a bare LF ending the head', `${post(`Content-Length: ${n}`).replace('\r\n\r\n', '\r\n\n')}`, 'node'],
    ['a bare CR in a value', post(`Content-Length: ${n}`, 'X-A: b\rc'), 'node'],
    ['a bare CR ending a line', post(`X-A: b\rContent-Length: ${n}`), 'node'],
    ['a NUL in a value', post(`Content-Length: ${n}`, 'X-A: b\0c'), 'node'],
    ['a NUL in a name', post(`Content-Length: ${n}`, 'X-\0A: b'), 'node'],
    ['a DEL in a value', post(`Content-Length: ${n}`, 'X-A: b\x7fc'), 'node'],
    ['obs-text in a value', post(`Content-Length: ${n}`, 'X-A: \xe9\xff'), 'lane'],
    ['an empty header name', post(`Content-Length: ${n}`, ': b'), 'node'],
    ['a line without a colon', post(`Content-Length: ${n}`, 'X-A b'), 'node'],
    ['a head just under 16 KiB', post(`Content-Length: ${n}`, `X-Pad: ${'a'.repeat(15_000)}`), 'lane'],
    ['a head over 16 KiB (431)', post(`Content-Length: ${n}`, `X-Pad: ${'a'.repeat(17_000)}`), 'node'],
    ['101 header lines', post(`Content-Length: ${n}`, ...Array.from({ length: 98 }, (_, i) => `X-${i}: a`)), 'node'],
    ['100 header lines', post(`Content-Length: ${n}`, ...Array.from({ length: 97 }, (_, i) => `X-${i}: a`)), 'lane'],
    ['a header named __proto__', post(`Content-Length: ${n}`, '__proto__: a'), 'node'],
    ['two spaces after the method', `${head('POST  / HTTP/1.1', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    ['a query', `${head('POST /?x HTTP/1.1', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    ['another path', `${head('POST /x HTTP/1.1', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    ['HTTP/1.0', `${head('POST / HTTP/1.0', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    [
      'HTTP/1.0 keep-alive',
      `${head('POST / HTTP/1.0', ...H, `Content-Length: ${n}`, 'Connection: keep-alive')}${body}`,
      'node',
    ],
    ['a lower-case method', `${head('post / HTTP/1.1', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    ['absolute form', `${head('POST http://localhost/ HTTP/1.1', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    ['a space after the version', `${head('POST / HTTP/1.1 ', ...H, `Content-Length: ${n}`)}${body}`, 'node'],
    ['an empty line before the request', `\r\n${post(`Content-Length: ${n}`)}`, 'node'],
    ['Expect: 100-continue', post(`Content-Length: ${n}`, 'Expect: 100-continue'), 'node'],
    ['Connection: close', post(`Content-Length: ${n}`, 'Connection: close'), 'node'],
    ['Connection: keep-alive', post(`Content-Length: ${n}`, 'Connection: Keep-Alive'), 'lane'],
    ['Connection: keep-alive, close', post(`Content-Length: ${n}`, 'Connection: keep-alive, close'), 'node'],
    ['Proxy-Connection: close', post(`Content-Length: ${n}`, 'Proxy-Connection: close'), 'node'],
    [
      'Connection: upgrade, Upgrade: websocket',
      post(`Content-Length: ${n}`, 'Connection: upgrade', 'Upgrade: websocket'),
      'node',
    ],
    ['Upgrade: websocket alone', post(`Content-Length: ${n}`, 'Upgrade: websocket'), 'node'],
    ['no Host', `${head('POST / HTTP/1.1', 'Content-Type: application/json', `Content-Length: ${n}`)}${body}`, 'node'],
    ['Host twice', post(`Content-Length: ${n}`, 'Host: localhost'), 'node'],
    ['Host twice, other values', post(`Content-Length: ${n}`, 'Host: evil.example'), 'node'],
    [
      'a foreign Host',
      `${head('POST / HTTP/1.1', 'Host: evil.example', 'Content-Type: application/json', `Content-Length: ${n}`)}${body}`,
      'node',
    ],
    [
      'Content-Type text/plain',
      `${head('POST / HTTP/1.1', 'Host: localhost', 'Content-Type: text/plain', `Content-Length: ${n}`)}${body}`,
      'node',
    ],
    ['Origin', post(`Content-Length: ${n}`, 'Origin: https://a.example'), 'node'],
    ['TE: trailers', post(`Content-Length: ${n}`, 'TE: trailers'), 'node'],
  ]

  it.each(
    cases.map(([what, request, by]) => [what, by, request] as const),
  )('%s: answered by %s, as without the lane (alone and pipelined)', async (what, by, request) => {
    // Alone: who answered it.
    const alone = await both(request)
    agree(alone.buf, alone.a, alone.b, what)
    expect({ answered: alone.answered, handedOver: alone.handedOver }, what).toEqual(
      by === 'lane' ? { answered: 1, handedOver: 0 } : { answered: 0, handedOver: 1 },
    )
    // Between two of the lane's requests and before the sentinel, in one segment and cut in three.
    const stream = `${plain(2)}${request}${plain(3)}${SENTINEL}`
    for (const cuts of [[], [plain(2).length + 7, plain(2).length + request.length - 3]]) {
      const piped = await both(stream, cuts)
      agree(piped.buf, piped.a, piped.b, `${what}, pipelined`)
      expect(piped.answered, what).toBe(by === 'lane' ? 3 : 1)
    }
  })

  // Lane requests, a hand-over, requests Node reads (one the lane would have taken), the sentinel.
  const mixed = `${plain(1)}${plain(2, 'Connection: keep-alive')}GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n${plain(3)}${SENTINEL}`
  const ids = (h: Heard) => responses(h.bytes).list.map((r) => /"id":(\d+)/.exec(r.body)?.[1] ?? r.body)

  it('a pipelined stream cut in two at every byte boundary: the same answers, each once, in order', async () => {
    const buf = Buffer.from(mixed)
    const reference = await talk(full.port, [buf])
    expect(ids(reference)).toEqual(['1', '2', '{"status":"ok"}', '3', '{"status":"ok"}'])
    const before = await lane.lane()
    for (let i = 1; i < buf.length; i++) {
      const heard = await talk(lane.port, [buf.subarray(0, i), buf.subarray(i)], { gapMs: 1 })
      agree(buf, heard, reference, `cut at ${i}`)
      expect(responses(heard.bytes).list.map(normal), `cut at ${i}`).toEqual(
        responses(reference.bytes).list.map(normal),
      )
    }
    const after = await lane.lane()
    // Each cut: the lane answered the first two and handed the connection over at the GET.
    expect(after.answered - before.answered).toBe(2 * (buf.length - 1))
    expect(after.handedOver - before.handedOver).toBe(buf.length - 1)
  }, 120_000)

  it('the same stream one byte per write', async () => {
    const buf = Buffer.from(mixed)
    const bytes = [...buf].map((b) => Buffer.from([b]))
    const [a, b] = await Promise.all([talk(lane.port, bytes), talk(full.port, bytes)])
    agree(buf, a, b, 'one byte per write')
    expect(ids(a)).toEqual(['1', '2', '{"status":"ok"}', '3', '{"status":"ok"}'])
  })

  // While the lane answers a slow request, the requests behind it outgrow what it holds: the socket
  // is paused, and the socket's own buffer and the kernel keep the rest. The lane hands the
  // connection over at a GET right behind the slow request (its held bytes go to Node first, then
  // the paused socket's buffer, then what Node's parser reads itself), or answers 3,000 requests
  // first and hands it over at a GET behind them: nothing lost, nothing twice, answers in order.
  it('a hand-over while the socket is paused: every byte to Node once, in order', async () => {
    const slow = call(7, 'test_slow')
    const head = `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${slow.length}\r\n\r\n`
    const get = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
    const many = (from: number) => Array.from({ length: 3000 }, (_, i) => plain(from + i)).join('')
    const named = (from: number) => Array.from({ length: 3000 }, (_, i) => String(from + i))
    const ok = '{"status":"ok"}'
    for (const [stream, expected, answered] of [
      [`${head}${slow}${get}${many(10_000)}${SENTINEL}`, ['7', ok, ...named(10_000), ok], 1],
      [
        `${head}${slow}${many(10_000)}${get}${many(20_000)}${SENTINEL}`,
        ['7', ...named(10_000), ok, ...named(20_000), ok],
        3001,
      ],
    ] as const) {
      const buf = Buffer.from(stream)
      const before = await lane.lane()
      const [a, b] = await Promise.all([
        talk(lane.port, [buf], { quietMs: 1000 }),
        talk(full.port, [buf], { quietMs: 1000 }),
      ])
      const after = await lane.lane()
      expect(agree(buf, a, b, 'paused hand-over').same).toBe(true)
      expect(ids(a)).toEqual(expected)
      expect(after.answered - before.answered).toBe(answered)
      expect(after.handedOver - before.handedOver).toBe(1)
    }
  }, 30_000)

  // A client that ends its side in the middle of a request: Node refuses what it holds (400, from
  // llhttp's finish) and closes; so does the lane, by handing it those bytes and the end.
  it('a request cut short by the end of the stream: refused as without the lane', async () => {
    const body = call(5)
    const head = `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
    for (const [what, stream] of [
      ['a head', 'POST / HTTP/1.1\r\nHost: loc'],
      ['a body', `${head}${body.slice(0, 10)}`],
      ['a head after an answer', `${plain(6)}POST / HTTP/1.1\r\nHost`],
      ['a body after an answer', `${plain(6)}${head}${body.slice(0, 10)}`],
    ] as const) {
      const buf = Buffer.from(stream)
      const [a, b] = await Promise.all([
        talk(lane.port, [buf], { end: true, quietMs: 1000 }),
        talk(full.port, [buf], { end: true, quietMs: 1000 }),
      ])
      // (Without the lane, the answer to the request before may be lost to the 400: Node's timing.)
      agree(buf, a, b, what)
      expect(responses(a.bytes).list.at(-1)?.status, what).toBe(400)
      expect(a.end, what).toBe('closed')
    }
  })

  // The lane holds a connection's 'end' while it answers; the connection then goes to Node, which must
  // learn of it as it would have itself: it ends its side (or refuses a request cut short), rather
  // than keep a half-open connection until its keep-alive timeout.
  it('a client that half-closes while the lane answers: Node, taking over, ends the connection', async () => {
    const slow = (id: number) => {
      const b = call(id, 'test_slow')
      return `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`
    }
    for (const [rest, status] of [
      ['GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n', undefined],
      ['GET /health HTTP/1.1\r\nHost: loc', 400],
    ] as const) {
      const before = await lane.lane()
      const heard = await talk(lane.port, [Buffer.from(slow(4) + rest)], { end: true, quietMs: 1000 })
      const after = await lane.lane()
      expect(after.answered - before.answered).toBe(1)
      expect(after.handedOver - before.handedOver).toBe(1)
      expect(heard.end).toBe('closed')
      const { list } = responses(heard.bytes)
      expect(list[0]?.body).toBe('{"jsonrpc":"2.0","id":4,"result":"echo:test_slow"}')
      if (status !== undefined) expect(list.at(-1)?.status).toBe(status)
    }
  })

  it('any stream of adversarial requests, cut anywhere: the same answers with the lane as without, each to the request llhttp reads', async () => {
    const totals = { runs: 0, same: 0, answered: 0, handedOver: 0, both: 0 }
    await fc.assert(
      fc.asyncProperty(fc.array(unit, { minLength: 1, maxLength: 5 }), cutsArb, async (units, cuts) => {
        const stream = `${units.map((u, i) => renderUnit(u, 1000 + i)).join('')}${SENTINEL}`
        const run = await both(stream, cuts)
        const { same } = agree(run.buf, run.a, run.b, JSON.stringify(units))
        totals.runs++
        if (same) totals.same++
        totals.answered += run.answered
        totals.handedOver += run.handedOver
        if (run.answered > 0 && run.handedOver > 0) totals.both++
      }),
      { numRuns: 400 },
    )
    // Not vacuous: the lane answered requests, handed connections over after answering some, and
    // most runs were compared answer for answer.
    expect(totals.answered).toBeGreaterThan(100)
    expect(totals.handedOver).toBeGreaterThan(50)
    expect(totals.both).toBeGreaterThan(20)
    expect(totals.same).toBeGreaterThan(totals.runs / 2)
  }, 180_000)
})

// How long a request may take to arrive and how long its head may be: the lane bounds a head by
// Node's headersTimeout and maxHeaderSize and a whole request by its requestTimeout, as Node does; a
// head or body past them is answered 408 (or 431) and closed.
describe("the fast lane's bounds are Node's", () => {
  /** A bare http.Server with these bounds, the lane in front of it or not. */
  async function bare(withLane: boolean, headersTimeout: number, requestTimeout: number, maxHeaderSize = 16 * 1024) {
    const options = { headersTimeout, requestTimeout, connectionsCheckingInterval: 100, maxHeaderSize }
    const server = createServer(options, (req, res) => {
      req.resume()
      req.on('end', () => res.end('node'))
    })
    const lane = new FastLane(
      { bodyLimit: 1024, requestTimeoutMs: requestTimeout, keepAliveMs: 5000, fixedHeaders: '' },
      {
        admits: () => true,
        answer: async () => ({ status: 200, headers: '', body: 'lane' }),
        handedOver: () => {},
        failed: () => {},
      },
    )
    if (withLane) expect(lane.attach(server)).toBe(true)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return {
      port,
      close: async () => {
        lane.close()
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  }

  /** Writes `raw` and times how long the server takes to answer 408 and close. */
  async function timed(port: number, raw: string): Promise<{ ms: number; text: string }> {
    const start = Date.now()
    const heard = await talk(port, [Buffer.from(raw)], { quietMs: 5000 })
    return { ms: Date.now() - start, text: heard.bytes.toString('latin1') }
  }

  // Node starts a connection's clock when it accepts it: one that sends nothing is a head that
  // does not arrive (not an idle keep-alive connection, which waits keepAliveTimeout).
  it('a new connection that sends nothing: 408 and close after headersTimeout, with the lane as without', async () => {
    for (const withLane of [true, false]) {
      const s = await bare(withLane, 300, 3000)
      try {
        const { ms, text } = await timed(s.port, '')
        expect(text, `lane ${withLane}`).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
        expect(ms, `lane ${withLane}`).toBeGreaterThanOrEqual(290)
        expect(ms, `lane ${withLane}`).toBeLessThan(1500)
      } finally {
        await s.close()
      }
    }
  })

  it('a head that does not arrive within headersTimeout: 408 and close, with the lane as without', async () => {
    const head = 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Len'
    for (const withLane of [true, false]) {
      const s = await bare(withLane, 300, 3000)
      try {
        const { ms, text } = await timed(s.port, head)
        expect(text, `lane ${withLane}`).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
        expect(ms, `lane ${withLane}`).toBeGreaterThanOrEqual(290)
        expect(ms, `lane ${withLane}`).toBeLessThan(1500)
      } finally {
        await s.close()
      }
    }
  })

  it("a head longer than the server's maxHeaderSize: 431, with the lane as without", async () => {
    const body = call(1)
    const request = `POST / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(2000)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    for (const withLane of [true, false]) {
      const s = await bare(withLane, 1000, 2000, 1024)
      try {
        const heard = await talk(s.port, [Buffer.from(request)])
        expect(heard.bytes.toString('latin1'), `lane ${withLane}`).toMatch(/^HTTP\/1\.1 431 /)
      } finally {
        await s.close()
      }
    }
  })

  it('a body that does not arrive within requestTimeout: 408 and close, with the lane as without', async () => {
    const partial = 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n{"a'
    for (const withLane of [true, false]) {
      const s = await bare(withLane, 300, 600)
      try {
        const { ms, text } = await timed(s.port, partial)
        expect(text, `lane ${withLane}`).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
        expect(ms, `lane ${withLane}`).toBeGreaterThanOrEqual(590)
        expect(ms, `lane ${withLane}`).toBeLessThan(2000)
      } finally {
        await s.close()
      }
    }
  })
})

// The generator: requests built from RFC 9112's sore spots, mostly plain enough for the lane.
const LINE = fc.oneof(
  { weight: 20, arbitrary: fc.constant('POST / HTTP/1.1') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'POST  / HTTP/1.1',
      'POST /?x HTTP/1.1',
      'POST / HTTP/1.0',
      'post / HTTP/1.1',
      'POST http://localhost/ HTTP/1.1',
      'POST /x HTTP/1.1',
      'POST / HTTP/1.1 ',
      ' POST / HTTP/1.1',
      'POST / HTTP/1.2',
      'POST\t/ HTTP/1.1',
      'GET /health HTTP/1.1',
      'GET / HTTP/1.1',
      'OPTIONS / HTTP/1.1',
      'PUT / HTTP/1.1',
    ),
  },
)
const FRAMING = fc.oneof(
  { weight: 30, arbitrary: fc.constant('cl') },
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      'cl-zeros',
      'cl-plus',
      'cl-minus',
      'cl-lead-sp',
      'cl-lead-tab',
      'cl-trail-sp',
      'cl-trail-tab',
      'cl-trail-sp-tab',
      'cl-list',
      'cl-list-nosp',
      'cl-inner-sp',
      'cl-hex',
      'cl-letter',
      'cl-empty',
      'cl-huge',
      'cl-over',
      'cl-at-limit',
      'cl-short',
      'cl-long',
      'cl-nul',
      'cl-twice',
      'cl-twice-diff',
      'cl-twice-case',
      'none',
      'te',
      'te-cl',
      'cl-te',
      'te-case',
      'te-gzip-chunked',
      'te-identity-cl',
      'te-space-colon',
      'cl-space-colon',
      'cl-tab-colon',
      'cl-fold',
    ),
  },
)
const EXTRA = [
  'Connection: keep-alive',
  'Connection: close',
  'Connection: upgrade',
  'Upgrade: websocket',
  'Expect: 100-continue',
  'Proxy-Connection: close',
  'Origin: https://a.example',
  'X-Request-Id: abc-1',
  'TE: trailers',
  'Trailer: X-T',
  'Keep-Alive: timeout=5',
  'Authorization: Bearer x',
  `X-Pad: ${'p'.repeat(300)}`,
  'MANY',
  'HUGE',
]
const MUTATION = fc.constantFrom(
  'upper',
  'mixed',
  'space-colon',
  'tab-colon',
  'fold',
  'lf',
  'cr',
  'nul',
  'del',
  'ctl',
  'obs-text',
  'empty-name',
  'no-colon',
)
const unit = fc.record({
  line: LINE,
  framing: FRAMING,
  host: fc.oneof(
    { weight: 10, arbitrary: fc.constant<string[]>(['Host: localhost']) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        [],
        ['Host: localhost', 'Host: localhost'],
        ['Host: localhost', 'Host: evil.example'],
        ['Host: evil.example'],
        ['Host: 127.0.0.1'],
        ['Host:'],
      ),
    },
  ),
  type: fc.oneof(
    { weight: 10, arbitrary: fc.constant<string[]>(['Content-Type: application/json']) },
    { weight: 1, arbitrary: fc.constantFrom(['Content-Type: text/plain'], []) },
  ),
  extra: fc.oneof(
    { weight: 6, arbitrary: fc.constant<string[]>([]) },
    { weight: 1, arbitrary: fc.subarray(EXTRA, { maxLength: 2 }) },
  ),
  mutation: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.record({ kind: MUTATION, at: fc.nat() }) },
  ),
  rotate: fc.nat(),
  method: fc.oneof(
    { weight: 10, arbitrary: fc.constant('eth_chainId') },
    { weight: 1, arbitrary: fc.constantFrom('test_slow', 'notification', 'unparseable') },
  ),
  emptyLineBefore: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
})
type Unit = typeof unit extends fc.Arbitrary<infer T> ? T : never
const cutsArb = fc.array(fc.nat({ max: 1_000_000 }), { maxLength: 6 })

const chunk = (b: string) => (b.length > 0 ? `${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` : '0\r\n\r\n')

/** The request's framing headers and body. */
function framed(kind: string, b: string): { headers: string[]; body: string } {
  const n = b.length
  const cl = (v: string, body = b) => ({ headers: [`Content-Length: ${v}`], body })
  switch (kind) {
    case 'cl-zeros':
      return cl(`00${n}`)
    case 'cl-plus':
      return cl(`+${n}`)
    case 'cl-minus':
      return cl(`-${n}`)
    case 'cl-lead-sp':
      return cl(`  ${n}`)
    case 'cl-lead-tab':
      return cl(`\t${n}`)
    case 'cl-trail-sp':
      return cl(`${n}  `)
    case 'cl-trail-tab':
      return cl(`${n}\t`)
    case 'cl-trail-sp-tab':
      return cl(`${n} \t`)
    case 'cl-list':
      return cl(`${n}, ${n}`)
    case 'cl-list-nosp':
      return cl(`${n},${n}`)
    case 'cl-inner-sp':
      return cl(`${n} ${n}`)
    case 'cl-hex':
      return cl(`0x${n.toString(16)}`)
    case 'cl-letter':
      return cl(`${n}a`)
    case 'cl-empty':
      return cl('')
    case 'cl-huge':
      return cl('99999999999999999999')
    case 'cl-over': {
      const body = b + ' '.repeat(BODY_LIMIT + 1 - n)
      return cl(String(body.length), body)
    }
    case 'cl-at-limit': {
      const body = b + ' '.repeat(BODY_LIMIT - n)
      return cl(String(body.length), body)
    }
    case 'cl-short':
      return cl(String(Math.max(0, n - 3)))
    case 'cl-long':
      return cl(String(n + 3))
    case 'cl-nul':
      return cl(`${n}\0`)
    case 'cl-twice':
      return { headers: [`Content-Length: ${n}`, `Content-Length: ${n}`], body: b }
    case 'cl-twice-diff':
      return { headers: [`Content-Length: ${n}`, `Content-Length: ${n + 1}`], body: b }
    case 'cl-twice-case':
      return { headers: [`Content-Length: ${n}`, `content-length: ${n}`], body: b }
    case 'none':
      return { headers: [], body: b }
    case 'te':
      return { headers: ['Transfer-Encoding: chunked'], body: chunk(b) }
    case 'te-cl':
      return { headers: ['Transfer-Encoding: chunked', `Content-Length: ${n}`], body: chunk(b) }
    case 'cl-te':
      return { headers: [`Content-Length: ${chunk(b).length}`, 'Transfer-Encoding: chunked'], body: chunk(b) }
    case 'te-case':
      return { headers: ['transfer-ENCODING: Chunked'], body: chunk(b) }
    case 'te-gzip-chunked':
      return { headers: ['Transfer-Encoding: gzip, chunked'], body: chunk(b) }
    case 'te-identity-cl':
      return { headers: ['Transfer-Encoding: identity', `Content-Length: ${n}`], body: b }
    case 'te-space-colon':
      return { headers: ['Transfer-Encoding : chunked', `Content-Length: ${n}`], body: b }
    case 'cl-space-colon':
      return { headers: [`Content-Length : ${n}`], body: b }
    case 'cl-tab-colon':
      return { headers: [`Content-Length\t: ${n}`], body: b }
    case 'cl-fold':
      return { headers: ['Content-Length:', ` ${n}`], body: b }
    default:
      return cl(String(n))
  }
}

/** A header line changed as `kind` says. */
function mutate(line: string, kind: string): string[] {
  const colon = line.indexOf(':')
  const name = colon < 0 ? line : line.slice(0, colon)
  const rest = colon < 0 ? '' : line.slice(colon)
  switch (kind) {
    case 'upper':
      return [line.toUpperCase()]
    case 'mixed':
      return [[...name].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join('') + rest]
    case 'space-colon':
      return [`${name} ${rest}`]
    case 'tab-colon':
      return [`${name}\t${rest}`]
    case 'fold':
      return [line, ' folded']
    case 'lf':
      return [`${line}\nX-After-Lf: 1`]
    case 'cr':
      return [`${line}\rX-After-Cr: 1`]
    case 'nul':
      return [`${line}\0`]
    case 'del':
      return [`${line}\x7f`]
    case 'ctl':
      return [`${line}\x1b`]
    case 'obs-text':
      return [`${line}\xe9`]
    case 'empty-name':
      return [line, ': x']
    default:
      return [line, 'X-No-Colon y']
  }
}

function renderUnit(u: Unit, id: number): string {
  const b =
    u.method === 'notification'
      ? '{"jsonrpc":"2.0","method":"eth_chainId"}'
      : u.method === 'unparseable'
        ? `{"jsonrpc":"2.0","id":${id},`
        : call(id, u.method)
  const { headers: framing, body } = framed(u.framing, b)
  const extra = u.extra.flatMap((e) =>
    e === 'MANY'
      ? Array.from({ length: 120 }, (_, i) => `X-${i}: m`)
      : e === 'HUGE'
        ? [`X-Huge: ${'h'.repeat(17_000)}`]
        : [e],
  )
  let lines = [...u.host, ...u.type, ...framing, ...extra]
  const r = u.rotate % Math.max(1, lines.length)
  lines = [...lines.slice(r), ...lines.slice(0, r)]
  if (u.mutation && lines.length > 0) {
    const at = u.mutation.at % lines.length
    lines = [...lines.slice(0, at), ...mutate(lines[at] as string, u.mutation.kind), ...lines.slice(at + 1)]
  }
  return `${u.emptyLineBefore ? '\r\n' : ''}${u.line}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n${body}`
}
