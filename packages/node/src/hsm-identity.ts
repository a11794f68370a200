/**
 * The node's identity key (its peer id; it signs each connection's Noise handshake) on a PKCS#11
 * token: `p2p.identity` kind `hsm` (docs/operations/keys.md). Opened before the node starts, like
 * the validator's HSM signer (@cairn/consensus `privval/hsm-signer.ts`): an unreadable PIN file, a
 * module that does not load, an absent token, a wrong PIN or an absent key stops the start, saying
 * which. The p2p layer sees
 * only the public key and `sign` (`@cairn/p2p`'s `IdentitySigner`); `DATADIR/keys/node.key` is then
 * neither read nor made, and one left behind is warned about.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { openHsmToken } from '@cairn/keys'
import type { IdentitySigner } from '@cairn/p2p'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config/schema.ts'

export type HsmIdentityConfig = Extract<NodeConfig['p2p']['identity'], { kind: 'hsm' }>

export interface HsmIdentityModules {
  logger: Logger
  registry: Registry | null
  /** The datadir's keys directory, where a `node.key` left behind is warned about; null: none. */
  keysDir: string | null
}

/** Opens the token and finds the key; `close` closes the token (after the p2p network stops). */
export async function openHsmIdentity(
  c: HsmIdentityConfig,
  modules: HsmIdentityModules,
): Promise<{ identity: IdentitySigner; close: () => void }> {
  const logger = modules.logger.child({ module: 'hsm' })
  const { value: key, close } = await openHsmToken(
    c,
    { pinWhat: 'p2p.identity.pinFile', logger, registry: modules.registry },
    (token) => token.key(c.key),
  )
  const leftBehind = modules.keysDir === null ? null : join(modules.keysDir, 'node.key')
  if (leftBehind !== null && existsSync(leftBehind)) {
    logger.warn(
      { file: leftBehind },
      'p2p.identity is hsm: the identity key file in the datadir is not used (move it off this machine)',
    )
  }
  logger.info({ token: c.token, key: c.key, address: bytesToHex(key.address) }, 'hsm node identity ready')
  return { identity: { publicKey: key.publicKey, sign: (digest) => key.sign(digest) }, close }
}
