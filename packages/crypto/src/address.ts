/** EIP-55 mixed-case checksum addresses. */
import { bytesToHex, type Hex } from '@cairn/utils'
import { CryptoErrorCode, cryptoError } from './errors.ts'
import { keccak256 } from './keccak.ts'

const ADDRESS_RE = /^(0x|0X)?[0-9a-fA-F]{40}$/

function lowerHexBody(address: string | Uint8Array): string {
  if (address instanceof Uint8Array) {
    if (address.length !== 20) {
      throw cryptoError(CryptoErrorCode.INVALID_ADDRESS, `address must be 20 bytes, got ${address.length}`)
    }
    return bytesToHex(address).slice(2)
  }
  if (typeof address !== 'string' || !ADDRESS_RE.test(address)) {
    throw cryptoError(
      CryptoErrorCode.INVALID_ADDRESS,
      `not an address: ${JSON.stringify(String(address)).slice(0, 60)}`,
      {
        hint: 'an address is 0x followed by 40 hex characters',
      },
    )
  }
  return (address.startsWith('0x') || address.startsWith('0X') ? address.slice(2) : address).toLowerCase()
}

/**
 * EIP-55 checksum form of an address (20 bytes, or 40 hex characters with or without 0x, any case).
 * The input's existing capitalisation is ignored, never validated; see {@link isValidChecksumAddress}.
 * @throws CairnError `CRYPTO_INVALID_ADDRESS`
 */
export function toChecksumAddress(address: string | Uint8Array): Hex {
  const body = lowerHexBody(address)
  const hash = keccak256(new TextEncoder().encode(body))
  let out = '0x'
  for (let i = 0; i < 40; i++) {
    const c = body[i] as string
    const nibble = ((hash[i >> 1] as number) >> (i % 2 === 0 ? 4 : 0)) & 0x0f
    out += nibble >= 8 ? c.toUpperCase() : c
  }
  return out as Hex
}

/** True when `address` is a 0x-prefixed address whose capitalisation is exactly its EIP-55 checksum. */
export function isValidChecksumAddress(address: string): boolean {
  if (typeof address !== 'string' || !address.startsWith('0x') || !ADDRESS_RE.test(address)) return false
  return toChecksumAddress(address) === address
}
