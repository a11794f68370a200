/** The remote signer's double-sign protection: the rule, the file store across restarts, and the signer's answers. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { SignStep } from '../../src/index.ts'
import {
  checkProtection,
  FileProtectionStore,
  MemoryProtectionStore,
  type ProtectionRecord,
  SignerServer,
  SignProtection,
} from '../../src/privval/index.ts'
import { ADDRESSES, block, CHAIN_ID, KEYS } from '../bft/fixture.ts'
import { UNIT_PEM } from './tls-fixture.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-signer-db-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const D1 = new Uint8Array(32).fill(1)
const D2 = new Uint8Array(32).fill(2)
const rec = (height: number, round: number, step: SignStep, digest: Uint8Array): ProtectionRecord => ({
  height,
  round,
  step,
  digest,
})
const ADDR = bytesToHex(ADDRESSES[0] as Uint8Array)

describe('checkProtection', () => {
  it('signs later steps and the same message again; refuses regressions and another digest at one step', () => {
    expect(checkProtection(null, rec(1, 0, 2, D1))).toEqual({ ok: true, again: false })
    expect(checkProtection(rec(1, 0, 2, D1), rec(1, 0, 3, D2))).toEqual({ ok: true, again: false })
    expect(checkProtection(rec(1, 0, 3, D1), rec(1, 1, 1, D2))).toEqual({ ok: true, again: false })
    expect(checkProtection(rec(1, 5, 3, D1), rec(2, 0, 1, D2))).toEqual({ ok: true, again: false })
    expect(checkProtection(rec(1, 0, 2, D1), rec(1, 0, 2, D1))).toEqual({ ok: true, again: true })
    expect(checkProtection(rec(1, 0, 2, D1), rec(1, 0, 2, D2))).toMatchObject({ ok: false, reason: /conflict/ })
    expect(checkProtection(rec(1, 1, 1, D1), rec(1, 0, 3, D1))).toMatchObject({ ok: false, reason: /regression/ })
    expect(checkProtection(rec(2, 0, 1, D1), rec(1, 9, 3, D1))).toMatchObject({ ok: false, reason: /regression/ })
    expect(checkProtection(rec(1, 0, 3, D1), rec(1, 0, 2, D1))).toMatchObject({ ok: false, reason: /regression/ })
  })
})

describe('checkProtection: a height far ahead', () => {
  it('refuses a height more than maxHeightJump ahead of the last, and one past 2^53 - 1; a first record takes any height', () => {
    const last = rec(100, 0, 3, D1)
    expect(checkProtection(last, rec(1_100, 0, 1, D2), { maxHeightJump: 1_000 })).toEqual({ ok: true, again: false })
    expect(checkProtection(last, rec(1_101, 0, 1, D2), { maxHeightJump: 1_000 })).toMatchObject({
      ok: false,
      reason: /1001 ahead .* more than 1000/,
    })
    expect(checkProtection(last, rec(Number.MAX_SAFE_INTEGER, 0, 1, D2))).toMatchObject({ ok: false })
    expect(checkProtection(last, rec(Number.MAX_SAFE_INTEGER, 0, 1, D2), { maxHeightJump: 0 })).toMatchObject({
      ok: true,
    })
    expect(checkProtection(null, rec(2 ** 53, 0, 1, D2), { maxHeightJump: 0 })).toMatchObject({ ok: false })
    expect(checkProtection(null, rec(5_000_000, 0, 1, D2))).toEqual({ ok: true, again: false })
  })

  it('records nothing it refuses: the key signs the next height after a refused far one', () => {
    const store = new MemoryProtectionStore()
    const p = new SignProtection({ store })
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(7, 0, 2, D1)).ok).toBe(true)
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(Number.MAX_SAFE_INTEGER, 0, 2, D1)).ok).toBe(false)
    expect(store.load(CHAIN_ID, ADDR)?.height).toBe(7)
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(8, 0, 2, D1)).ok).toBe(true)
    expect(store.saves).toBe(2)
  })
})

describe('the signer under any sequence of requests (property)', () => {
  const tls = UNIT_PEM

  it('never gives two different signatures for one key at one (height, round, step), across restarts', () => {
    const hashes = [block('A').hash, block('B').hash, null]
    const request = fc.record({
      restart: fc.boolean(),
      kind: fc.constantFrom('prevote', 'precommit', 'proposal'),
      key: fc.integer({ min: 0, max: 1 }),
      height: fc.integer({ min: 1, max: 3 }),
      round: fc.integer({ min: 0, max: 2 }),
      hash: fc.integer({ min: 0, max: 2 }),
      polRound: fc.integer({ min: -1, max: 1 }),
    })
    fc.assert(
      fc.property(fc.array(request, { maxLength: 40 }), (requests) => {
        const store = new MemoryProtectionStore()
        const make = () =>
          new SignerServer(
            { chainId: CHAIN_ID, host: '127.0.0.1', port: 0, tls: { ...tls, clients: [tls.cert] } },
            { keys: KEYS.slice(0, 2), protection: new SignProtection({ store }), logger: silentLogger },
          )
        let server = make()
        const given = new Map<string, string>()
        let id = 1
        for (const r of requests) {
          if (r.restart) server = make() // a restart: only the store survives
          const key = bytesToHex(ADDRESSES[r.key] as Uint8Array)
          const hash = hashes[r.hash] ?? null
          const msg =
            r.kind === 'proposal'
              ? {
                  id: id++,
                  method: 'signProposal',
                  key,
                  chainId: CHAIN_ID.toString(),
                  proposal: {
                    height: r.height,
                    round: r.round,
                    polRound: r.polRound,
                    blockHash: bytesToHex(hash ?? (hashes[0] as Uint8Array)),
                  },
                }
              : {
                  id: id++,
                  method: 'signVote',
                  key,
                  chainId: CHAIN_ID.toString(),
                  vote: {
                    type: r.kind === 'prevote' ? 1 : 2,
                    height: r.height,
                    round: r.round,
                    blockHash: hash === null ? null : bytesToHex(hash),
                  },
                }
          const res = server.handle(msg)
          if (!('result' in res)) {
            expect(res.error.code).toBe('DOUBLE_SIGN')
            continue
          }
          const step = r.kind === 'proposal' ? 1 : r.kind === 'prevote' ? 2 : 3
          const k = `${key}/${r.height}/${r.round}/${step}`
          const signature = (res.result as { signature: string }).signature
          const before = given.get(k)
          if (before !== undefined) expect(signature).toBe(before)
          given.set(k, signature)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('signs nothing when the record cannot be made durable', () => {
    const failing = {
      load: () => null,
      save: () => {
        throw new Error('disk full')
      },
    }
    const server = new SignerServer(
      { chainId: CHAIN_ID, host: '127.0.0.1', port: 0, tls: { ...tls, clients: [tls.cert] } },
      { keys: KEYS.slice(0, 1), protection: new SignProtection({ store: failing }), logger: silentLogger },
    )
    const res = server.handle({
      id: 7,
      method: 'signVote',
      key: ADDR,
      chainId: CHAIN_ID.toString(),
      vote: { type: 1, height: 1, round: 0, blockHash: null },
    })
    expect(res).toEqual({ id: 7, error: { code: 'INTERNAL', message: expect.any(String) } })
  })

  it('refuses another chain, an unknown key and a malformed request', () => {
    const server = new SignerServer(
      { chainId: CHAIN_ID, host: '127.0.0.1', port: 0, tls: { ...tls, clients: [tls.cert] } },
      {
        keys: KEYS.slice(0, 1),
        protection: new SignProtection({ store: new MemoryProtectionStore() }),
        logger: silentLogger,
      },
    )
    const vote = { type: 1, height: 1, round: 0, blockHash: null }
    expect(server.handle({ id: 1, method: 'signVote', key: ADDR, chainId: '999', vote })).toMatchObject({
      error: { code: 'WRONG_CHAIN' },
    })
    const other = bytesToHex(ADDRESSES[3] as Uint8Array)
    expect(server.handle({ id: 2, method: 'signVote', key: other, chainId: CHAIN_ID.toString(), vote })).toMatchObject({
      error: { code: 'UNKNOWN_KEY' },
    })
    expect(server.handle({ id: 3, method: 'signDigest', digest: '0x00' })).toMatchObject({
      id: 3,
      error: { code: 'BAD_REQUEST' },
    })
    expect(server.handle({ id: 4, method: 'keys' })).toEqual({
      id: 4,
      result: { version: 1, chainId: CHAIN_ID.toString(), keys: [ADDR], txKeys: [] },
    })
  })
})

describe('FileProtectionStore', () => {
  it('keeps the last record across a restart, so the conflict is refused after it', () => {
    const db = join(dir, 'restart')
    let store = new FileProtectionStore({ dir: db })
    let p = new SignProtection({ store })
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(4, 1, 3, D1)).ok).toBe(true)
    store.close()
    store = new FileProtectionStore({ dir: db })
    p = new SignProtection({ store })
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(4, 1, 3, D2))).toMatchObject({ ok: false })
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(4, 1, 3, D1))).toEqual({ ok: true, again: true })
    expect(p.checkAndRecord(CHAIN_ID, ADDR, rec(4, 0, 3, D1))).toMatchObject({ ok: false })
    // Another chain has a record of its own.
    expect(p.checkAndRecord(CHAIN_ID + 1n, ADDR, rec(1, 0, 1, D2)).ok).toBe(true)
    const file = JSON.parse(readFileSync(join(db, `${CHAIN_ID}-${ADDR}.json`), 'utf8'))
    expect(file).toMatchObject({ height: 4, round: 1, step: 3, digest: bytesToHex(D1) })
    expect(existsSync(join(db, `${CHAIN_ID}-${ADDR}.json.tmp`))).toBe(false)
    store.close()
  })

  it('refuses a directory a live process holds, and takes over a dead one’s lock', () => {
    const db = join(dir, 'lock')
    const first = new FileProtectionStore({ dir: db })
    expect(() => new FileProtectionStore({ dir: db, pid: process.pid + 1, alive: () => true })).toThrow(/in use/)
    first.close()
    writeFileSync(join(db, 'LOCK'), '999999\n')
    const second = new FileProtectionStore({ dir: db, alive: () => false })
    second.close()
  })

  it('refuses a damaged record instead of starting afresh', () => {
    const db = join(dir, 'damaged')
    const store = new FileProtectionStore({ dir: db })
    writeFileSync(join(db, `${CHAIN_ID}-${ADDR}.json`), '{"height":')
    const p = new SignProtection({ store })
    expect(() => p.checkAndRecord(CHAIN_ID, ADDR, rec(1, 0, 1, D1))).toThrow(/cannot be read/)
    store.close()
  })
})
