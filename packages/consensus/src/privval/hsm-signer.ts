/**
 * The validator signer of `bft.signer` kind `hsm`: the key (and the key it rotates to) on a PKCS#11
 * token, behind the same signer state as a key in the datadir (`ValidatorSigner`). Opened before
 * the node starts: an unreadable PIN file, a module that does not load, an absent token, a wrong
 * PIN or an absent key stops the start here, saying which (docs/operations/keys.md). On a hybrid
 * chain the token signs the secp256k1 part and the datadir's ML-DSA seed the other
 * (docs/consensus/post-quantum.md): an absent seed, or one the genesis does not register for the
 * token key, stops the start too. A rotation on a hybrid chain pairs `nextKey` with
 * `validator.next.mldsa.seed` (hsm-pq-seeds.ts): a half-made pair stops the start.
 */
import { toChecksumAddress } from '@cairn/crypto'
import { type DigestKey, openHsmToken } from '@cairn/keys'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { BftConfig } from '../bft/bft-config.ts'
import { FileSignerState } from './file-signer-state.ts'
import { checkHsmPqSeedFiles, hsmPqSeeds } from './hsm-pq-seeds.ts'
import { hybridDigestKey } from './pq-digest-key.ts'
import { loadPqSeed, pqSeedPath } from './pq-seed-file.ts'
import { checkGenesisPqKey } from './pq-signer.ts'
import { pqSeedAddress } from './promote-next-key.ts'
import type { HsmSignerConfig } from './signer-config.ts'
import { MemorySignerState } from './signer-state.ts'
import { ValidatorSigner } from './validator-signer.ts'

export interface HsmSignerModules {
  logger: Logger
  registry: Registry | null
  /** Where the signer state lives (`DATADIR/keys/validator.state.json`); null: in memory. */
  signerStatePath: string | null
  /** The datadir's validator key address, when it has one (it is not used: warned about). */
  datadirKey?: string | undefined
}

/**
 * On a hybrid chain: the datadir's keys directory, whose ML-DSA seed (`validator.mldsa.seed`, and
 * `validator.next.mldsa.seed` during a rotation) signs the ML-DSA part beside the token's
 * secp256k1 part (a PKCS#11 token has no ML-DSA), and the chain's config, whose genesis must
 * register the current key's seed for the token key's address (when it holds that address).
 */
export interface HsmHybridOptions {
  keysDir: string
  bft: BftConfig
}

/** The seeds to promote once the chain rotated (hybrid with `nextKey`): promote-next-key.ts. */
export interface HsmPqRotation {
  keysDir: string
  /** `pqAddress` of the next key's seed (what the promotion checks the file still holds). */
  nextPq: string
}

/** Opens the token, finds the keys, and makes the signer; `close` closes the token (after the engine stops). */
export async function openHsmSigner(
  s: HsmSignerConfig,
  chainId: bigint,
  modules: HsmSignerModules,
  hybrid?: HsmHybridOptions,
): Promise<{ signer: ValidatorSigner; close: () => void; pqRotation: HsmPqRotation | null }> {
  // Read before the token opens: an absent or open seed file, or a half-made next pair, stops the
  // start with nothing opened.
  if (hybrid) {
    checkHsmPqSeedFiles(hybrid.keysDir, s.nextKey)
    loadPqSeed(pqSeedPath(hybrid.keysDir))
  }
  const logger = modules.logger.child({ module: 'hsm' })
  // Everything that can refuse runs inside: a refusal closes the token again.
  const { value, close } = await openHsmToken(
    s,
    { pinWhat: 'bft.signer.pinFile', logger, registry: modules.registry },
    (token) => {
      const tokenKey = token.key(s.key)
      const nextTokenKey = s.nextKey !== undefined ? token.key(s.nextKey) : null
      let key: DigestKey = tokenKey
      let next: DigestKey[] = nextTokenKey ? [nextTokenKey] : []
      let seeds: ReturnType<typeof hsmPqSeeds> | null = null
      if (hybrid) {
        const checksum = (a: Uint8Array) => toChecksumAddress(bytesToHex(a))
        seeds = hsmPqSeeds(hybrid.keysDir, {
          current: checksum(tokenKey.address),
          next:
            nextTokenKey && s.nextKey !== undefined
              ? { label: s.nextKey, address: checksum(nextTokenKey.address) }
              : null,
        })
        key = hybridDigestKey({ secpKey: tokenKey, pqSeed: seeds.current.seed })
        checkGenesisPqKey(hybrid.bft, key, seeds.current.path)
        if (nextTokenKey && seeds.next) {
          const nextKey = hybridDigestKey({ secpKey: nextTokenKey, pqSeed: seeds.next.seed })
          checkGenesisPqKey(hybrid.bft, nextKey, seeds.next.path)
          next = [nextKey]
        }
      }
      const state = modules.signerStatePath
        ? new FileSignerState({ path: modules.signerStatePath })
        : new MemorySignerState()
      const signer = new ValidatorSigner({ chainId, key, ...(next.length > 0 ? { nextKeys: next } : {}) }, { state })
      return { key, next, signer, seeds }
    },
  )
  const { key, next, signer, seeds } = value
  if (modules.datadirKey !== undefined) {
    logger.warn(
      { key: modules.datadirKey },
      'bft.signer is hsm: the validator key in the datadir is not used (move it off this machine)',
    )
  }
  if (seeds?.completed) {
    logger.warn(
      { seed: seeds.next?.path, retired: seeds.current.path },
      'completed the interrupted promotion of validator.next.mldsa.seed',
    )
  }
  if (seeds?.promoted) {
    logger.warn(
      { key: s.key, nextKey: s.nextKey },
      `the chain rotated this validator to the token key "${s.nextKey}" and its seed is promoted: set bft.signer.key = "${s.nextKey}" and remove bft.signer.nextKey in the config`,
    )
  }
  logger.info(
    {
      token: s.token,
      key: s.key,
      validator: bytesToHex(key.address),
      ...(seeds ? { scheme: 'hybrid', seed: seeds.current.path } : {}),
      ...(next[0] ? { next: bytesToHex(next[0].address) } : {}),
      ...(seeds?.next ? { nextSeed: seeds.next.path } : {}),
    },
    'hsm signer ready',
  )
  const pqRotation = hybrid && seeds?.next ? { keysDir: hybrid.keysDir, nextPq: pqSeedAddress(seeds.next.seed) } : null
  return { signer, close, pqRotation }
}
