import { initCrypto } from '@cairn/crypto'
import type { Logger } from '@cairn/utils'

/** Loads the crypto backends before anything checks a signature; a JS fallback is warned about. */
export async function initCryptoBackends(logger: Logger): Promise<void> {
  const backends = await initCrypto()
  logger.debug({ ...backends }, 'crypto backends')
  if (backends.secp256k1 !== 'native') {
    logger.warn(
      { reason: backends.secp256k1FallbackReason },
      'native secp256k1 unavailable: signature checks run in JS (slower)',
    )
  }
}
