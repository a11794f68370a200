// A consensus key rotation on a post-quantum chain, node side, on real files in a temporary
// directory: the local signer holds the next key (hybrid: validator.next.key with
// validator.next.mldsa.seed; ml-dsa-65: the next seed alone) and signs each height with the key of
// its set; the promotion moves the next seed into place with the next key, and a crash between any
// two of its steps is completed at the next start (never a mismatched key and seed); half-made
// pairs and the flags a scheme does not take are refused, saying what to do.
import { copyFileSync, linkSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BftConfig, DEFAULT_TIMEOUTS, MemorySignerState, MsgType, voteDigest } from '@cairn/consensus'
import { pqAddress, verifyVoteSignature } from '@cairn/consensus/pq'
import { checkPqSignerRotation, pqValidatorSigner } from '@cairn/consensus/privval'
import {
  loadOrCreateKey,
  loadOrCreatePqSeed,
  loadValidatorKeys,
  pqNextKeyPromotion,
  pqNextSeedPath,
  pqSeedAddress,
  pqSeedPath,
  promoteNextPqKeyFiles,
  retiredKeyName,
  retiredPqSeedName,
} from '@cairn/consensus/validator-keys'
import { mlDsa65Keygen } from '@cairn/crypto'
import { bytesToHex, hexToBytes, silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { rotationFiles } from '../../src/cli/commands/staking.ts'
import { datadirLayout } from '../../src/datadir.ts'
import { loadNodeKeys } from '../../src/keys/node-keys.ts'

const root = mkdtempSync(join(tmpdir(), 'cairn-pq-rotation-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

interface Rotating {
  datadir: string
  dir: string
  /** validator.key's address (hybrid: the old consensus address; ml-dsa-65: the operator). */
  key: string
  nextKey: string | null
  seed: Uint8Array
  nextSeed: Uint8Array
}

/** A datadir in the middle of a rotation: hybrid the key pair and the next pair, ml-dsa-65 the seeds. */
function rotating(scheme: 'hybrid' | 'ml-dsa-65'): Rotating {
  const datadir = join(root, `d${n++}`)
  const dir = join(datadir, 'keys')
  const key = loadOrCreateKey(join(dir, 'validator.key'), 'validator key').address
  const nextKey =
    scheme === 'hybrid' ? loadOrCreateKey(join(dir, 'validator.next.key'), 'next validator key').address : null
  const seed = loadOrCreatePqSeed(pqSeedPath(dir))
  const nextSeed = loadOrCreatePqSeed(pqNextSeedPath(dir))
  return { datadir, dir, key, nextKey, seed, nextSeed }
}

/** The validator's files in `dir` (a start also makes the identity key node.key there). */
const files = (dir: string) => readdirSync(dir).filter((f) => f !== 'node.key')

/** File name → content: what the directory holds. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(files(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
}

const pqKey = (seed: Uint8Array) => mlDsa65Keygen(seed).publicKey
const setOf = (...addresses: string[]) => ({
  indexOf: (a: Uint8Array) => addresses.findIndex((x) => x.toLowerCase() === bytesToHex(a).toLowerCase()),
})

const bftOf = (scheme: 'hybrid' | 'ml-dsa-65', address: Uint8Array, pqPublicKey: Uint8Array): BftConfig => ({
  signatureScheme: scheme,
  validators: [{ address, votingPower: 1n, pqPublicKey }],
  timeouts: { ...DEFAULT_TIMEOUTS, commitMs: 1000 },
  blockTimeMs: 1000,
  emptyBlocks: true,
})

const signerOf = (scheme: 'hybrid' | 'ml-dsa-65', r: Rotating) => {
  const genesisAddress = scheme === 'hybrid' ? hexToBytes(r.key as `0x${string}`) : pqAddress(pqKey(r.seed))
  return pqValidatorSigner(
    scheme,
    { chainId: 1337n, bft: bftOf(scheme, genesisAddress, pqKey(r.seed)), keys: loadValidatorKeys(r.dir, -1n) },
    { state: new MemorySignerState(), logger: silentLogger },
  )
}

/** The files of a finished promotion (hybrid: the new pair in place, the old one retired). */
function promotedFiles(scheme: 'hybrid' | 'ml-dsa-65', r: Rotating): string[] {
  if (scheme === 'ml-dsa-65')
    return ['validator.key', 'validator.mldsa.seed', retiredPqSeedName(pqSeedAddress(r.seed))].sort()
  return ['validator.key', 'validator.mldsa.seed', retiredKeyName(r.key), retiredPqSeedName(r.key)].sort()
}

function expectPromoted(scheme: 'hybrid' | 'ml-dsa-65', r: Rotating): void {
  expect(files(r.dir).sort()).toEqual(promotedFiles(scheme, r))
  expect(bytesToHex(loadOrCreatePqSeed(pqSeedPath(r.dir)))).toBe(bytesToHex(r.nextSeed))
  const retiredSeed = retiredPqSeedName(scheme === 'hybrid' ? r.key : pqSeedAddress(r.seed))
  expect(bytesToHex(loadOrCreatePqSeed(join(r.dir, retiredSeed)))).toBe(bytesToHex(r.seed))
  expect(loadOrCreateKey(join(r.dir, 'validator.key'), 'key').address).toBe(scheme === 'hybrid' ? r.nextKey : r.key)
  for (const f of files(r.dir)) expect(statSync(join(r.dir, f)).mode & 0o777).toBe(0o600)
}

describe('the local signer during a rotation on a PQ chain', () => {
  it('hybrid: holds both pairs and signs each height with the pair in its set', async () => {
    const r = rotating('hybrid')
    const { signer, rotation } = signerOf('hybrid', r)
    expect(rotation).toEqual({ keysDir: r.dir, current: r.key, next: r.nextKey })
    signer.followValidatorSets((h) => (h < 10 ? setOf(r.key) : setOf(r.nextKey as string)) as never)
    for (const [height, address, seed] of [
      [9, r.key, r.seed],
      [10, r.nextKey as string, r.nextSeed],
    ] as const) {
      const vote = { type: MsgType.PREVOTE, height, round: 0, blockHash: new Uint8Array(32).fill(1) }
      const signed = await signer.signVote(vote)
      if ('refused' in signed) throw new Error(signed.refused)
      const identity = { address: hexToBytes(address as `0x${string}`), pqPublicKey: pqKey(seed) }
      expect(verifyVoteSignature('hybrid', voteDigest(1337n, vote), signed.signature, identity)).toEqual({ ok: true })
    }
  })

  it('ml-dsa-65: the next seed alone, known by its pqAddress; validator.key is not rotated', async () => {
    const r = rotating('ml-dsa-65')
    const { signer, rotation } = signerOf('ml-dsa-65', r)
    expect(rotation).toEqual({ keysDir: r.dir, current: pqSeedAddress(r.seed), next: pqSeedAddress(r.nextSeed) })
    signer.followValidatorSets(() => setOf(pqSeedAddress(r.nextSeed)) as never)
    const vote = { type: MsgType.PRECOMMIT, height: 3, round: 0, blockHash: new Uint8Array(32).fill(2) }
    const signed = await signer.signVote(vote)
    if ('refused' in signed) throw new Error(signed.refused)
    const next = pqKey(r.nextSeed)
    const identity = { address: pqAddress(next), pqPublicKey: next }
    expect(verifyVoteSignature('ml-dsa-65', voteDigest(1337n, vote), signed.signature, identity)).toEqual({ ok: true })
  })

  it('a rotation through a remote signer passes; an HSM pair without its seed (or the reverse) is refused', () => {
    const remote = { kind: 'remote', url: 'x', ca: 'c', cert: 'c', key: 'k', nextAddress: '0x01' } as never
    expect(() => checkPqSignerRotation(remote, 'hybrid', null)).not.toThrow()
    expect(() => checkPqSignerRotation(remote, 'ml-dsa-65', null)).not.toThrow()
    const hsm = { kind: 'hsm', module: 'm', token: 't', pinFile: 'p', key: 'k', nextKey: 'k2' } as never
    const r = rotating('hybrid')
    // The pair: the token's next key with validator.next.mldsa.seed.
    expect(() => checkPqSignerRotation(hsm, 'hybrid', r.dir)).not.toThrow()
    rmSync(pqNextSeedPath(r.dir))
    expect(() => checkPqSignerRotation(hsm, 'hybrid', r.dir)).toThrow(
      /bft\.signer\.nextKey \("k2"\) has no ML-DSA seed beside it \(.*validator\.next\.mldsa\.seed\)/,
    )
    const noNextKey = { kind: 'hsm', module: 'm', token: 't', pinFile: 'p', key: 'k' } as never
    const s = rotating('hybrid')
    expect(() => checkPqSignerRotation(noNextKey, 'hybrid', s.dir)).toThrow(
      /validator\.next\.mldsa\.seed has no bft\.signer\.nextKey beside it/,
    )
    expect(() => checkPqSignerRotation({ kind: 'local' } as never, 'hybrid', s.dir)).not.toThrow()
  })

  it('refuses a half-made pair, a validator.next.key under ml-dsa-65 and a next seed equal to the current', () => {
    const noSeed = rotating('hybrid')
    rmSync(pqNextSeedPath(noSeed.dir))
    expect(() => signerOf('hybrid', noSeed)).toThrow(/validator\.next\.key .* has no ML-DSA seed beside it/)
    const noKey = rotating('hybrid')
    rmSync(join(noKey.dir, 'validator.next.key'))
    expect(() => signerOf('hybrid', noKey)).toThrow(/has no validator\.next\.key beside it/)
    const secpNext = rotating('ml-dsa-65')
    loadOrCreateKey(join(secpNext.dir, 'validator.next.key'), 'next validator key')
    expect(() => signerOf('ml-dsa-65', secpNext)).toThrow(/is not a consensus key on an ML-DSA-65 chain/)
    const same = rotating('ml-dsa-65')
    copyFileSync(pqSeedPath(same.dir), pqNextSeedPath(same.dir))
    expect(() => signerOf('ml-dsa-65', { ...same, nextSeed: same.seed })).toThrow(/is the same seed as/)
  })
})

describe('the promotion of the next key and seed', () => {
  it.each([
    'hybrid',
    'ml-dsa-65',
  ] as const)('%s: moves the seed (and the key) into place, retiring the old ones', (scheme) => {
    const r = rotating(scheme)
    const before = Object.values(snapshot(r.dir)).sort()
    const { rotation } = signerOf(scheme, r)
    const promotion = pqNextKeyPromotion(scheme, rotation, {
      logger: silentLogger,
      validatorsAt: (h) => (h <= 5 ? setOf(rotation?.current as string) : setOf(rotation?.next as string)),
    })
    expect(promotion?.check(4n)).toBe(false) // height 5 still has the old key
    expect(files(r.dir)).toContain('validator.next.mldsa.seed')
    expect(promotion?.check(5n)).toBe(true)
    expectPromoted(scheme, r)
    // Nothing deleted: every file's content is still there.
    expect(Object.values(snapshot(r.dir)).sort()).toEqual(before)
    // A restart loads the new pair alone.
    const keys = loadNodeKeys(datadirLayout(r.datadir), { validator: true })
    expect(keys.recovered).toBeNull()
    expect(keys.validator?.following).toBeNull()
    expect(signerOf(scheme, { ...r, seed: r.nextSeed }).rotation).toBeNull()
  })

  // The steps in order (hybrid: seed link, seed rename, key link, key rename; ml-dsa-65: the first two).
  const steps = (r: Rotating, retiredSeed: string) => [
    () => linkSync(pqSeedPath(r.dir), join(r.dir, retiredSeed)),
    () => renameSync(pqNextSeedPath(r.dir), pqSeedPath(r.dir)),
    () => linkSync(join(r.dir, 'validator.key'), join(r.dir, retiredKeyName(r.key))),
  ]
  for (const [scheme, count] of [
    ['hybrid', 3],
    ['ml-dsa-65', 1],
  ] as const) {
    for (let crashAfter = 1; crashAfter <= count; crashAfter++) {
      it(`${scheme}: a crash after step ${crashAfter} is completed at the next start`, () => {
        const r = rotating(scheme)
        const retiredSeed = retiredPqSeedName(scheme === 'hybrid' ? r.key : pqSeedAddress(r.seed))
        for (const step of steps(r, retiredSeed).slice(0, crashAfter)) step()
        const keys = loadNodeKeys(datadirLayout(r.datadir), { validator: true })
        expect(keys.recovered).not.toBeNull()
        expectPromoted(scheme, r)
        expect(keys.validator?.current.address).toBe(scheme === 'hybrid' ? r.nextKey : r.key)
        expect(keys.validator?.following).toBeNull()
        // The signer loads the new pair: it is the one in the set now.
        const after = signerOf(scheme, { ...r, key: keys.validator?.current.address as string, seed: r.nextSeed })
        expect(after.rotation).toBeNull()
        const expected = scheme === 'hybrid' ? (r.nextKey as string) : pqSeedAddress(r.nextSeed)
        expect(bytesToHex(after.signer.address).toLowerCase()).toBe(expected.toLowerCase())
      })
    }
  }

  it('a rotation waiting (no retired seed) is left alone at start; files other than expected are refused, moving nothing', () => {
    const r = rotating('hybrid')
    const before = snapshot(r.dir)
    expect(loadNodeKeys(datadirLayout(r.datadir), { validator: true }).recovered).toBeNull()
    expect(snapshot(r.dir)).toEqual(before)
    expect(() => promoteNextPqKeyFiles(r.dir, 'hybrid', { current: r.key, next: r.key })).toThrow(
      expect.objectContaining({ code: 'KEY_PROMOTION_CONFLICT' }),
    )
    expect(snapshot(r.dir)).toEqual(before)
    const m = rotating('ml-dsa-65')
    const mBefore = snapshot(m.dir)
    expect(loadNodeKeys(datadirLayout(m.datadir), { validator: true }).recovered).toBeNull()
    const wrong = { current: pqSeedAddress(m.nextSeed), next: pqSeedAddress(m.seed) }
    expect(() => promoteNextPqKeyFiles(m.dir, 'ml-dsa-65', wrong)).toThrow(
      expect.objectContaining({ code: 'KEY_PROMOTION_CONFLICT' }),
    )
    expect(snapshot(m.dir)).toEqual(mBefore)
  })
})

describe('cairn staking rotate-key: the files per scheme', () => {
  it('secp256k1 the key, hybrid the key and the seed beside it, ml-dsa-65 the seed alone', () => {
    expect(rotationFiles('secp256k1', { newKeyFile: '/k/validator.next.key' })).toEqual({
      keyFile: '/k/validator.next.key',
      seedFile: null,
    })
    expect(rotationFiles('hybrid', { newKeyFile: '/k/validator.next.key' })).toEqual({
      keyFile: '/k/validator.next.key',
      seedFile: '/k/validator.next.mldsa.seed',
    })
    expect(rotationFiles('ml-dsa-65', { newPqSeedFile: '/k/validator.next.mldsa.seed' })).toEqual({
      keyFile: null,
      seedFile: '/k/validator.next.mldsa.seed',
    })
    expect(() => rotationFiles('secp256k1', { newKeyFile: '/k', newPqSeedFile: '/s' })).toThrow(/registers no ML-DSA/)
    expect(() => rotationFiles('hybrid', { newPqSeedFile: '/s' })).toThrow(/--new-key-file is required/)
    expect(() => rotationFiles('ml-dsa-65', { newKeyFile: '/k', newPqSeedFile: '/s' })).toThrow(/ML-DSA seed alone/)
    expect(() => rotationFiles('ml-dsa-65', {})).toThrow(/--new-pq-seed-file is required/)
  })
})
