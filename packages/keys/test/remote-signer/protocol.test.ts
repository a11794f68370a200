/**
 * The remote signer's protocol edge without sockets: frames trickled a byte at a time, rejected
 * frames and their reasons, and errors that never quote the request. The signer's answers and its
 * limits: @cairn/consensus `test/privval/server-edge.test.ts`.
 */
import { describe, expect, it } from 'vitest'
import {
  describeRequestProblem,
  encodeFrame,
  FrameReader,
  frameRejectionOf,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_FRAME_BYTES,
  RequestSchema,
} from '../../src/remote-signer/index.ts'

function head(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n, 0)
  return b
}

describe('FrameReader', () => {
  it('reads frames trickled one byte at a time, and several frames in one chunk', () => {
    const bytes = Buffer.concat([encodeFrame({ id: 1, method: 'ping' }), encodeFrame({ id: 2, method: 'keys' })])
    const r = new FrameReader()
    const got: unknown[] = []
    for (const b of bytes) {
      r.append(Buffer.from([b]))
      for (let m = r.next(); m !== undefined; m = r.next()) got.push(m)
    }
    expect(got).toEqual([
      { id: 1, method: 'ping' },
      { id: 2, method: 'keys' },
    ])
    expect(r.pending).toBe(0)
    expect(new FrameReader().push(bytes)).toHaveLength(2)
  })

  it('rejects an empty frame, one over the cap (from its length alone) and one that is not JSON, saying which', () => {
    const reason = (chunk: Buffer) => {
      try {
        new FrameReader().push(chunk)
        return 'accepted'
      } catch (err) {
        return frameRejectionOf(err)
      }
    }
    expect(reason(head(0))).toBe('empty')
    expect(reason(head(MAX_FRAME_BYTES + 1))).toBe('too_large')
    expect(reason(Buffer.concat([head(3), Buffer.from('{x}')]))).toBe('not_json')
    expect(frameRejectionOf(new Error('other'))).toBeNull()
  })
})

describe('describeRequestProblem', () => {
  const problem = (req: unknown) => {
    const r = RequestSchema.safeParse(req)
    if (r.success) throw new Error('parsed')
    return describeRequestProblem(r.error)
  }
  const key = `0x${'ab'.repeat(20)}`

  it('names the field and what it must be, never a name or value of the request', () => {
    const long = 'q'.repeat(60_000)
    const cases: [unknown, RegExp][] = [
      [{ id: 1, method: 'ping', [long]: 1 }, /^request: an unknown field/],
      [{ id: 1, method: long }, /^method: must be one of keys, ping/],
      [{ id: 1, method: 'signVote', key: long, chainId: '1', vote: {} }, /^key: an address$/],
      [
        { id: 1, method: 'signVote', key, chainId: '1', vote: { type: 1, height: 2 ** 53, round: 0, blockHash: null } },
        /^vote\.height: at most/,
      ],
      [
        { id: 1, method: 'signVote', key, chainId: '1', vote: { type: 1, height: 1, round: 2 ** 31, blockHash: null } },
        /^vote\.round: at most 2147483647$/,
      ],
      [{ id: 1, method: 'signVote', key, chainId: '1', vote: long }, /^vote: expected object$/],
      [null, /^request: expected object$/],
    ]
    for (const [req, want] of cases) {
      const m = problem(req)
      expect(m).toMatch(want)
      expect(m).not.toContain('qqqq')
      expect(m.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS)
    }
  })
})
