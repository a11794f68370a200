/**
 * A validator's signer on an `ml-dsa-65` chain: the datadir's ML-DSA seed alone makes 3,309-byte
 * vote signatures, the signer is known by `pqAddress` of its key (not the secp256k1 validator.key's
 * address), an HSM signer and a next secp256k1 key (validator.next.key: the seed alone rotates) are
 * refused at start, a missing seed too.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mlDsa65Keygen } from '@cairn/crypto'
import { bytesToHex, hexToBytes, silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { pqAddress, verifyVoteSignature } from '../../src/bft/pq/index.ts'
import { type BftConfig, DEFAULT_TIMEOUTS, MemorySignerState, MsgType, voteDigest } from '../../src/index.ts'
import { loadOrCreateKey } from '../../src/privval/key-file.ts'
import { loadOrCreatePqSeed, pqSeedPath } from '../../src/privval/pq-seed-file.ts'
import { checkPqSignerKind, mlDsaValidatorSigner } from '../../src/privval/pq-signer.ts'
import { loadValidatorKeys } from '../../src/privval/validator-rotation.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-mldsa-signer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function validatorDir(name: string, seed = true): { keysDir: string; secp: Uint8Array; pq: Uint8Array | null } {
  const keysDir = join(dir, name, 'keys')
  const key = loadOrCreateKey(join(keysDir, 'validator.key'), 'validator key')
  const pq = seed ? mlDsa65Keygen(loadOrCreatePqSeed(pqSeedPath(keysDir))).publicKey : null
  return { keysDir, secp: hexToBytes(key.address as `0x${string}`), pq }
}

const bftOf = (pqPublicKey: Uint8Array): BftConfig => ({
  signatureScheme: 'ml-dsa-65',
  validators: [{ address: pqAddress(pqPublicKey), votingPower: 1n, pqPublicKey }],
  timeouts: { ...DEFAULT_TIMEOUTS, commitMs: 1000 },
  blockTimeMs: 1000,
  emptyBlocks: true,
})

const signerFor = (keysDir: string, bft: BftConfig, warnings: string[] = []) =>
  mlDsaValidatorSigner(
    { chainId: 1337n, bft, keys: loadValidatorKeys(keysDir, -1n) },
    {
      state: new MemorySignerState(),
      logger: {
        ...silentLogger,
        warn: (_: unknown, msg: string) => {
          warnings.push(msg)
        },
      } as never,
    },
  )

describe('the ml-dsa-65 validator signer of `cairn start`', () => {
  it('signs votes ML-DSA-65 alone with the datadir seed, known by pqAddress of its key', async () => {
    const v = validatorDir('ok')
    const pq = v.pq as Uint8Array
    const signer = signerFor(v.keysDir, bftOf(pq))
    expect(bytesToHex(signer.address)).toBe(bytesToHex(pqAddress(pq)))
    expect(bytesToHex(signer.address)).not.toBe(bytesToHex(v.secp))
    const vote = { type: MsgType.PREVOTE, height: 1, round: 0, blockHash: new Uint8Array(32).fill(1) }
    const signed = await signer.signVote(vote)
    if ('refused' in signed) throw new Error(signed.refused)
    expect(signed.signature.length).toBe(3309)
    const identity = { address: pqAddress(pq), pqPublicKey: pq }
    expect(verifyVoteSignature('ml-dsa-65', voteDigest(1337n, vote), signed.signature, identity)).toEqual({ ok: true })
  })

  it('allows a remote signer; refuses an HSM signer (no secp256k1 part), a next secp256k1 key and a missing seed; warns for a key not in the genesis', () => {
    // A remote signer holds the seed (`cairn signer serve --signature-scheme ml-dsa-65`).
    expect(() => checkPqSignerKind('remote', 'ml-dsa-65')).not.toThrow()
    expect(() => checkPqSignerKind('hsm', 'ml-dsa-65')).toThrow(
      /not supported on an ML-DSA-65 chain: a PKCS#11 token holds secp256k1 keys/,
    )
    expect(() => checkPqSignerKind('local', 'ml-dsa-65')).not.toThrow()
    const v = validatorDir('rotating')
    copyFileSync(join(v.keysDir, 'validator.key'), join(v.keysDir, 'validator.next.key'))
    expect(() => signerFor(v.keysDir, bftOf(v.pq as Uint8Array))).toThrow(
      /is not a consensus key on an ML-DSA-65 chain/,
    )
    const bare = validatorDir('bare', false)
    expect(() => signerFor(bare.keysDir, bftOf(v.pq as Uint8Array))).toThrow(/does not exist/)
    const stranger = validatorDir('stranger')
    const warnings: string[] = []
    signerFor(stranger.keysDir, bftOf(v.pq as Uint8Array), warnings)
    expect(warnings).toEqual([expect.stringMatching(/a key the genesis does not register/)])
  })
})
