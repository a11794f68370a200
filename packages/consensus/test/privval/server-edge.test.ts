/**
 * The signer's protocol edge without sockets (the frames themselves: @cairn/keys
 * `test/remote-signer/protocol.test.ts`): a bad request answered with a short message and its id,
 * and the limits' checks.
 */
import { encodeFrame } from '@cairn/keys/remote-signer'
import { isCairnError, silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { ConsensusErrorCode } from '../../src/index.ts'
import {
  DEFAULT_SIGNER_LIMITS,
  MemoryProtectionStore,
  resolveSignerLimits,
  SignerServer,
  SignProtection,
} from '../../src/privval/index.ts'
import { KEYS } from '../bft/fixture.ts'
import { UNIT_PEM } from './tls-fixture.ts'

describe('SignerServer.handle', () => {
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
