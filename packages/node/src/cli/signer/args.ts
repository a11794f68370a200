import { readFileSync } from 'node:fs'
import { ConsensusErrorCode } from '@cairn/consensus'
import { checkKeyFilePermissions } from '@cairn/consensus/validator-keys'
import { decryptKeystore } from '@cairn/crypto'
import { CairnError, errorMessage } from '@cairn/utils'
import { InvalidArgumentError } from 'commander'

/** A repeatable flag's values, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function chainIdArg(v: string): bigint {
  if (!/^\d{1,20}$/.test(v) || BigInt(v) === 0n)
    throw new InvalidArgumentError('expected a chain id (a positive integer)')
  return BigInt(v)
}

export function listenArg(v: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(v)
  const port = Number(m?.[2])
  if (!m || port > 65535) throw new InvalidArgumentError('expected HOST:PORT (e.g. 127.0.0.1:9797)')
  return { host: (m[1] as string).replace(/^\[|\]$/g, '') || '127.0.0.1', port }
}

export function addressArg(v: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(v)) throw new InvalidArgumentError('expected an address (0x + 40 hex digits)')
  return v
}

/** A whole number flag (the ranges are checked with the limits, `resolveSignerLimits`). */
export function wholeArg(v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new InvalidArgumentError('expected a whole number')
  return Number(v)
}

/** A signer configuration error (the caller's fault). */
export function bad(message: string, hint?: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, message, { fault: 'caller', ...(hint ? { hint } : {}) })
}

export function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw bad(`cannot read ${what} ${path}: ${errorMessage(err)}`)
  }
}

/** A keystore the signer holds, decrypted (its permissions checked first). */
export async function decryptValidatorKeystore(file: string, password: string): Promise<Uint8Array> {
  checkKeyFilePermissions(file, 'keystore')
  try {
    return await decryptKeystore(JSON.parse(readPem(file, 'keystore')), password)
  } catch (err) {
    if (err instanceof CairnError && err.code === ConsensusErrorCode.BFT_SIGNER_CONFIG) throw err
    throw bad(`cannot decrypt keystore ${file}: ${errorMessage(err)}`, 'check the password (--password-file)')
  }
}
