import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { readPinFile } from '../secret-file.ts'
import { createHsmMetrics } from './hsm-metrics.ts'
import { Pkcs11Token } from './pkcs11-token.ts'

/** A PKCS#11 token as config names it: the library, the token's label, a file holding the user PIN. */
export interface HsmTokenSource {
  /** The PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so). */
  module: string
  /** The token's label. */
  token: string
  /** A file (mode 0600) holding the user PIN. */
  pinFile: string
}

export interface OpenHsmTokenModules {
  /** What the PIN file is called in errors (`bft.signer.pinFile`, `--hsm-pin-file`). */
  pinWhat: string
  logger?: Logger | null
  /** Where `cairn_hsm_*` go (one set per registry); none for a one-shot command. */
  registry?: Registry | null
}

/**
 * Opens the token with the PIN of `src.pinFile` and runs `use` on it (find keys, check them); a
 * throw closes the token again. Every failure is a start error saying which part is wrong (the PIN
 * file, the module, the token, the PIN, then whatever `use` refuses). `close` logs out after the last
 * signature.
 */
export async function openHsmToken<T>(
  src: HsmTokenSource,
  modules: OpenHsmTokenModules,
  use: (token: Pkcs11Token) => T,
): Promise<{ value: T; close: () => void }> {
  const pin = readPinFile(src.pinFile, modules.pinWhat)
  const token = await Pkcs11Token.open(
    { module: src.module, token: src.token, pin },
    { logger: modules.logger ?? null, metrics: modules.registry ? createHsmMetrics(modules.registry) : null },
  )
  try {
    return { value: use(token), close: () => token.close() }
  } catch (err) {
    token.close()
    throw err
  }
}
