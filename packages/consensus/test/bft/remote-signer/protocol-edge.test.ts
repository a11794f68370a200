/**
 * The remote signer's protocol edge without sockets: frames trickled a byte at a time, rejected
 * frames and their reasons, errors that never quote the request, and the limits' checks.
 */
import { isCairnError, silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SIGNER_LIMITS,
  encodeFrame,
  FrameReader,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_FRAME_BYTES,
  MemoryProtectionStore,
  resolveSignerLimits,
  SignerServer,
  SignProtection,
} from '../../../src/bft/remote-signer/index.ts'
import { describeRequestProblem, frameRejectionOf, RequestSchema } from '../../../src/bft/remote-signer/protocol.ts'
import { ConsensusErrorCode } from '../../../src/index.ts'
import { KEYS } from '../fixture.ts'
import { UNIT_PEM } from './tls-fixture.ts'

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

  it('answers through the signer with the same short message and the request id', () => {
    const server = new SignerServer(
      { chainId: 1337n, host: '127.0.0.1', port: 0, tls: { ...UNIT_PEM, clients: [UNIT_PEM.cert] } },
      {
        keys: [KEYS[0] as Uint8Array],
        protection: new SignProtection({ store: new MemoryProtectionStore() }),
        logger: silentLogger,
      },
    )
    const answer = server.handle({ id: 3, method: 'ping', ['z'.repeat(65_000)]: 1 })
    expect(answer).toEqual({
      id: 3,
      error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^request: an unknown field/) },
    })
    expect(encodeFrame(answer).length).toBeLessThan(512)
  })
})

describe('resolveSignerLimits', () => {
  it('fills the defaults and refuses a limit out of range, naming it', () => {
    expect(resolveSignerLimits()).toEqual(DEFAULT_SIGNER_LIMITS)
    expect(resolveSignerLimits({ maxConnectionsPerIp: 2 })).toMatchObject({ maxConnectionsPerIp: 2, maxSessions: 16 })
    for (const bad of [
      { handshakeTimeoutMs: 0 },
      { maxSessions: 0 },
      { maxBufferedBytes: 1024 },
      { frameTimeoutMs: 1.5 },
    ]) {
      let err: unknown
      try {
        resolveSignerLimits(bad)
      } catch (e) {
        err = e
      }
      expect(isCairnError(err, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
      expect(String((err as Error).message)).toContain(Object.keys(bad)[0] as string)
    }
  })
})
