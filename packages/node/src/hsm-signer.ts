/**
 * The validator signer of `bft.signer` kind `hsm`: the key (and the key it rotates to) on a PKCS#11
 * token, behind the same signer state as a key in the datadir (`ValidatorSigner`). Opened before
 * the node starts: an unreadable PIN file, a module that does not load, an absent token, a wrong
 * PIN or an absent key stops the start here, saying which (docs/operations/keys.md). On a hybrid
 * chain the token signs the secp256k1 part and the datadir's ML-DSA seed the other
 * (docs/consensus/post-quantum.md): an absent seed, or one the genesis does not register for the
 * token key, stops the start too.
 */
import { type BftConfig, FileSignerState, MemorySignerState, ValidatorSigner } from '@cairn/consensus'
import { hybridDigestKey } from '@cairn/consensus/pq'
import { openHsmToken } from '@cairn/keys'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config/schema.ts'
import { checkGenesisPqKey, checkPqSignerRotation } from './hybrid-signer.ts'
import { loadPqSeed } from './keys/pq-seed-file.ts'

export type HsmSignerConfig = Extract<NodeConfig['bft']['signer'], { kind: 'hsm' }>

export interface HsmSignerModules {
  logger: Logger
  registry: Registry | null
  /** Where the signer state lives (`DATADIR/keys/validator.state.json`); null: in memory. */
  signerStatePath: string | null
  /** The datadir's validator key address, when it has one (it is not used: warned about). */
  datadirKey?: string | undefined
}

/**
 * On a hybrid chain: the ML-DSA seed file (`DATADIR/keys/validator.mldsa.seed`) whose key signs
 * the ML-DSA part beside the token's secp256k1 part (a PKCS#11 token has no ML-DSA), and the
 * chain's config, whose genesis must register that key for the token key's address.
 */
export interface HsmHybridOptions {
  seedPath: string
  bft: BftConfig
}

/** Opens the token, finds the keys, and makes the signer; `close` closes the token (after the engine stops). */
export async function openHsmSigner(
  s: HsmSignerConfig,
  chainId: bigint,
  modules: HsmSignerModules,
  hybrid?: HsmHybridOptions,
): Promise<{ signer: ValidatorSigner; close: () => void }> {
  // A rotation on the token under hybrid: no next ML-DSA seed is paired with the next key yet.
  if (hybrid && s.nextKey !== undefined) checkPqSignerRotation(s, 'hybrid')
  // Read before the token opens: an absent or open seed file stops the start with nothing opened.
  const pqSeed = hybrid ? loadPqSeed(hybrid.seedPath) : undefined
  const logger = modules.logger.child({ module: 'hsm' })
  // Everything that can refuse runs inside: a refusal closes the token again.
  const { value, close } = await openHsmToken(
    s,
    { pinWhat: 'bft.signer.pinFile', logger, registry: modules.registry },
    (token) => {
      const tokenKey = token.key(s.key)
      const key = pqSeed ? hybridDigestKey({ secpKey: tokenKey, pqSeed }) : tokenKey
      if (hybrid) checkGenesisPqKey(hybrid.bft, key, hybrid.seedPath)
      const next = s.nextKey !== undefined ? [token.key(s.nextKey)] : []
      const state = modules.signerStatePath
        ? new FileSignerState({ path: modules.signerStatePath })
        : new MemorySignerState()
      const signer = new ValidatorSigner({ chainId, key, ...(next.length > 0 ? { nextKeys: next } : {}) }, { state })
      return { key, next, signer }
    },
  )
  const { key, next, signer } = value
  if (modules.datadirKey !== undefined) {
    logger.warn(
      { key: modules.datadirKey },
      'bft.signer is hsm: the validator key in the datadir is not used (move it off this machine)',
    )
  }
  logger.info(
    {
      token: s.token,
      key: s.key,
      validator: bytesToHex(key.address),
      ...(hybrid ? { scheme: 'hybrid', seed: hybrid.seedPath } : {}),
      ...(next[0] ? { next: bytesToHex(next[0].address) } : {}),
    },
    'hsm signer ready',
  )
  return { signer, close }
}
