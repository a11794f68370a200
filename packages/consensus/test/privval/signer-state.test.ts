/** Double-sign protection: the rule, the memory state and the file state across "restarts". */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  checkSign,
  FileSignerState,
  MemorySignerState,
  type SignedRecord,
  type SignStep,
  ValidatorSigner,
} from '../../src/index.ts'
import { block, CHAIN_ID, KEYS, PRECOMMIT, PREVOTE } from '../bft/fixture.ts'

const A = block('A').hash
const B = block('B').hash
const rec = (height: number, round: number, step: SignStep, blockHash: Uint8Array | null): SignedRecord => ({
  height,
  round,
  step,
  blockHash,
})

const dir = mkdtempSync(join(tmpdir(), 'cairn-bft-signer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('checkSign', () => {
  it('allows later (height, round, step) and the same message again; refuses regressions and conflicts', () => {
    expect(checkSign(null, rec(1, 0, 2, A))).toEqual({ ok: true, again: false })
    expect(checkSign(rec(1, 0, 2, A), rec(1, 0, 3, A))).toEqual({ ok: true, again: false })
    expect(checkSign(rec(1, 0, 2, A), rec(1, 0, 2, A))).toEqual({ ok: true, again: true })
    expect(checkSign(rec(1, 0, 2, A), rec(1, 0, 2, B))).toMatchObject({ ok: false, reason: /conflict/ })
    expect(checkSign(rec(1, 0, 2, A), rec(1, 0, 2, null))).toMatchObject({ ok: false })
    expect(checkSign(rec(1, 1, 1, A), rec(1, 0, 3, A))).toMatchObject({ ok: false, reason: /round regression/ })
    expect(checkSign(rec(2, 0, 1, A), rec(1, 5, 3, A))).toMatchObject({ ok: false, reason: /height regression/ })
  })

  it('never lets two different hashes through at one (height, round, step) (property)', () => {
    const arb = fc.record({
      height: fc.integer({ min: 1, max: 3 }),
      round: fc.integer({ min: 0, max: 2 }),
      step: fc.constantFrom<SignStep>(1, 2, 3),
      blockHash: fc.constantFrom(A, B, null),
    })
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 40 }), (attempts) => {
        const state = new MemorySignerState()
        const signed = new Map<string, Uint8Array | null>()
        for (const a of attempts) {
          if (!state.checkAndRecord(a).ok) continue
          const k = `${a.height}/${a.round}/${a.step}`
          if (signed.has(k)) expect(signed.get(k)).toEqual(a.blockHash)
          signed.set(k, a.blockHash)
        }
      }),
    )
  })
})

describe('FileSignerState', () => {
  it('keeps the last signature across reopening and refuses a conflicting one after a "restart"', () => {
    const path = join(dir, 'a.json')
    const first = new FileSignerState({ path })
    expect(first.last()).toBeNull()
    expect(first.checkAndRecord(rec(7, 2, 2, A)).ok).toBe(true)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      height: 7,
      round: 2,
      step: 2,
      blockHash: `0x${Buffer.from(A).toString('hex')}`,
    })
    const reopened = new FileSignerState({ path })
    expect(reopened.last()).toEqual(rec(7, 2, 2, A))
    expect(reopened.checkAndRecord(rec(7, 2, 2, B))).toMatchObject({ ok: false })
    expect(reopened.checkAndRecord(rec(7, 2, 2, A))).toEqual({ ok: true, again: true })
    expect(reopened.checkAndRecord(rec(7, 2, 3, null)).ok).toBe(true)
    expect(new FileSignerState({ path }).last()).toEqual(rec(7, 2, 3, null))
  })

  it('refuses to start from a damaged file', () => {
    const path = join(dir, 'bad.json')
    writeFileSync(path, '{"height": -1}')
    expect(() => new FileSignerState({ path })).toThrow(
      expect.objectContaining({ code: 'CONSENSUS_BFT_SIGNER_STATE_UNUSABLE' }),
    )
  })
})

describe('ValidatorSigner', () => {
  it('signs through the signer state and refuses a double sign', () => {
    const signer = new ValidatorSigner(
      { chainId: CHAIN_ID, privateKey: KEYS[0] as Uint8Array },
      { state: new MemorySignerState() },
    )
    const v = signer.signVote({ type: PREVOTE, height: 1, round: 0, blockHash: A })
    expect('signature' in v).toBe(true)
    expect(signer.signVote({ type: PREVOTE, height: 1, round: 0, blockHash: B })).toMatchObject({ refused: /conflict/ })
    const again = signer.signVote({ type: PREVOTE, height: 1, round: 0, blockHash: A })
    expect(again).toEqual(v)
    expect('signature' in signer.signVote({ type: PRECOMMIT, height: 1, round: 0, blockHash: null })).toBe(true)
    expect(
      signer.signProposal({ height: 1, round: 0, polRound: -1, blockHash: A, block: new Uint8Array() }),
    ).toMatchObject({
      refused: /step regression/,
    })
  })
})
