/**
 * A transaction account whose key stays on a PKCS#11 token: `--hsm-module/--hsm-token/--hsm-key/
 * --hsm-pin-file` of `cairn arb` and `cairn reserves anchor`. The token is opened with the PIN from
 * a private file, the key found by its label, and every transaction signed on the token
 * (account.ts). The PKCS#11 binding is loaded only here.
 */
import { bytesToHex, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { LocalAccount } from 'viem/accounts'
import { digestKeyAccount } from './account.ts'
import { type HsmTokenSource, openHsmToken } from './hsm/open-token.ts'

/** Where an account's key is on an HSM. */
export interface HsmKeySource extends HsmTokenSource {
  /** The key's label on the token. */
  key: string
}

export interface HsmAccountModules {
  logger?: Logger | null
  /** Where `cairn_hsm_*` go (a long-running service); none for a one-shot command. */
  registry?: Registry | null
}

/** Opens the token and the key; `close` logs out (after the last signature). Errors name what is wrong. */
export async function openHsmAccount(
  src: HsmKeySource,
  modules: HsmAccountModules = {},
): Promise<{ account: LocalAccount; close: () => void }> {
  const { value: account, close } = await openHsmToken(
    src,
    { pinWhat: 'HSM PIN file', logger: modules.logger ?? null, registry: modules.registry ?? null },
    (token) => {
      const key = token.key(src.key)
      modules.logger?.info({ token: src.token, key: src.key, address: bytesToHex(key.address) }, 'hsm account ready')
      return digestKeyAccount(key)
    },
  )
  return { account, close }
}
