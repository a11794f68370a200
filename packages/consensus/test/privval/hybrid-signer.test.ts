/**
 * A validator's signer on a hybrid chain: the datadir's key and ML-DSA seed make 3,374-byte vote
 * signatures that verify under the genesis's keys; a remote or HSM signer is allowed (the HSM's
 * case: bft-signer-hsm.int.test.ts); a seed that is not the genesis's, a missing seed and one
 * readable by others are refused at start, each saying why.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mlDsa65Keygen } from '@cairn/crypto'
import { hexToBytes, silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { verifyVoteSignature } from '../../src/bft/pq/index.ts'
import { type BftConfig, DEFAULT_TIMEOUTS, MemorySignerState, MsgType, voteDigest } from '../../src/index.ts'
import { loadOrCreateKey } from '../../src/privval/key-file.ts'
import { loadOrCreatePqSeed, pqSeedPath } from '../../src/privval/pq-seed-file.ts'
import { checkHybridSignerKind, hybridValidatorSigner } from '../../src/privval/pq-signer.ts'
import { loadValidatorKeys } from '../../src/privval/validator-rotation.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-hybrid-signer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function validatorDir(name: string, seed = true): { keysDir: string; address: Uint8Array; pq: Uint8Array | null } {
  const keysDir = join(dir, name, 'keys')
  const key = loadOrCreateKey(join(keysDir, 'validator.key'), 'validator key')
  const pq = seed ? mlDsa65Keygen(loadOrCreatePqSeed(pqSeedPath(keysDir))).publicKey : null
  return { keysDir, address: hexToBytes(key.address as `0x${string}`), pq }
}

const bftOf = (address: Uint8Array, pqPublicKey: Uint8Array): BftConfig => ({
  signatureScheme: 'hybrid',
  validators: [{ address, votingPower: 1n, pqPublicKey }],
  timeouts: { ...DEFAULT_TIMEOUTS, commitMs: 1000 },
  blockTimeMs: 1000,
  emptyBlocks: true,
})

const signerFor = (keysDir: string, bft: BftConfig) =>
  hybridValidatorSigner(
    { chainId: 1337n, bft, keys: loadValidatorKeys(keysDir, -1n) },
    { state: new MemorySignerState(), logger: silentLogger },
  )

describe('the hybrid validator signer of `cairn start`', () => {
  it('signs votes secp256k1 ‖ ML-DSA-65 with the datadir key and seed (0600)', async () => {
    const v = validatorDir('ok')
    const signer = signerFor(v.keysDir, bftOf(v.address, v.pq as Uint8Array))
    const vote = { type: MsgType.PREVOTE, height: 1, round: 0, blockHash: new Uint8Array(32).fill(1) }
    const signed = await signer.signVote(vote)
    if ('refused' in signed) throw new Error(signed.refused)
    expect(signed.signature.length).toBe(3374)
    const identity = { address: v.address, pqPublicKey: v.pq }
    expect(verifyVoteSignature('hybrid', voteDigest(1337n, vote), signed.signature, identity)).toEqual({ ok: true })
  })

  it('allows a remote or HSM signer; refuses a seed not registered in the genesis, a missing or exposed seed', () => {
    // A remote signer holds the seed (`cairn signer serve --signature-scheme hybrid`); an HSM the
    // secp256k1 part, the seed staying in the datadir.
    expect(() => checkHybridSignerKind('remote')).not.toThrow()
    expect(() => checkHybridSignerKind('hsm')).not.toThrow()
    expect(() => checkHybridSignerKind('local')).not.toThrow()
    const v = validatorDir('other')
    const stranger = validatorDir('stranger')
    expect(() => signerFor(v.keysDir, bftOf(v.address, stranger.pq as Uint8Array))).toThrow(
      /is not the one the genesis registers/,
    )
    const bare = validatorDir('bare', false)
    expect(() => signerFor(bare.keysDir, bftOf(bare.address, v.pq as Uint8Array))).toThrow(/does not exist/)
    chmodSync(pqSeedPath(v.keysDir), 0o644)
    expect(() => signerFor(v.keysDir, bftOf(v.address, v.pq as Uint8Array))).toThrow(/readable or writable by other/)
  })
})
