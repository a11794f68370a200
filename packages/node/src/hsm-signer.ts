/**
 * The validator signer of `bft.signer` kind `hsm`: the key (and the key it rotates to) on a PKCS#11
 * token, behind the same signer state as a key in the datadir (`ValidatorSigner`). Opened before
 * the node starts: an unreadable PIN file, a module that does not load, an absent token, a wrong
 * PIN or an absent key stops the start here, saying which (docs/operations/keys.md).
 */
import { FileSignerState, MemorySignerState, ValidatorSigner } from '@cairn/consensus'
import { createHsmMetrics, Pkcs11Token, readPinFile } from '@cairn/keys'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config/schema.ts'

export type HsmSignerConfig = Extract<NodeConfig['bft']['signer'], { kind: 'hsm' }>

export interface HsmSignerModules {
  logger: Logger
  registry: Registry | null
  /** Where the signer state lives (`DATADIR/keys/validator.state.json`); null: in memory. */
  signerStatePath: string | null
  /** The datadir's validator key address, when it has one (it is not used: warned about). */
  datadirKey?: string | undefined
}

/** Opens the token, finds the keys, and makes the signer; `close` closes the token (after the engine stops). */
export async function openHsmSigner(
  s: HsmSignerConfig,
  chainId: bigint,
  modules: HsmSignerModules,
): Promise<{ signer: ValidatorSigner; close: () => void }> {
  const pin = readPinFile(s.pinFile, 'bft.signer.pinFile')
  const logger = modules.logger.child({ module: 'hsm' })
  const token = await Pkcs11Token.open(
    { module: s.module, token: s.token, pin },
    { logger, metrics: modules.registry ? createHsmMetrics(modules.registry) : null },
  )
  try {
    const key = token.key(s.key)
    const next = s.nextKey !== undefined ? [token.key(s.nextKey)] : []
    if (modules.datadirKey !== undefined) {
      logger.warn(
        { key: modules.datadirKey },
        'bft.signer is hsm: the validator key in the datadir is not used (move it off this machine)',
      )
    }
    const state = modules.signerStatePath
      ? new FileSignerState({ path: modules.signerStatePath })
      : new MemorySignerState()
    const signer = new ValidatorSigner({ chainId, key, ...(next.length > 0 ? { nextKeys: next } : {}) }, { state })
    logger.info(
      {
        token: s.token,
        key: s.key,
        validator: bytesToHex(key.address),
        ...(next[0] ? { next: bytesToHex(next[0].address) } : {}),
      },
      'hsm signer ready',
    )
    return { signer, close: () => token.close() }
  } catch (err) {
    token.close()
    throw err
  }
}
