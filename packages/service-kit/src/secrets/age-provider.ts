import { readFileSync } from 'node:fs'
import { CairnError, errorMessage } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'
import { readOwnerOnlyFile } from './file-provider.ts'
import type { SecretProvider } from './provider.ts'

const unreadable = (message: string, hint: string, cause?: unknown) =>
  new CairnError(ServiceErrorCode.SECRET_UNREADABLE, message, { fault: 'caller', hint, ...(cause ? { cause } : {}) })

/** What decrypts the bundles: age identity files (`AGE-SECRET-KEY-1…` lines, `#` comments), owner-only. */
export interface AgeSecretOptions {
  identityFiles: readonly string[]
}

/**
 * `age:PATH[#NAME]`: secrets kept encrypted at rest in the SOPS/age style — a file encrypted to
 * the operators' and the hosts' age recipients (`age -r age1… -o secrets.age`, armored or binary),
 * that may be committed and copied freely; only a holder of an identity reads it. Decrypted with
 * age-encryption (typage, the age reference implementation's TypeScript port). The plaintext is
 * one secret, or with `#NAME` a bundle: a JSON object of strings or `NAME=value` lines. A new
 * file in place (a new entry, a rotated value) is read on the next call.
 */
export class AgeSecretProvider implements SecretProvider {
  readonly scheme = 'age'
  readonly rotates = true
  private last: { cipher: Uint8Array; plain: Uint8Array } | null = null

  constructor(private readonly opts: AgeSecretOptions) {}

  async read(locator: string, what: string): Promise<Uint8Array> {
    const hash = locator.lastIndexOf('#')
    const path = hash >= 0 ? locator.slice(0, hash) : locator
    const name = hash >= 0 ? locator.slice(hash + 1) : null
    const plain = await this.decrypt(path, what)
    if (name === null) return plain
    const value = bundleEntry(new TextDecoder().decode(plain), name)
    if (value === undefined)
      throw unreadable(
        `the ${what} age:${locator}: the bundle has no entry ${name}`,
        `add ${name} to ${path} (sops/age edit)`,
      )
    return new TextEncoder().encode(value)
  }

  private async decrypt(path: string, what: string): Promise<Uint8Array> {
    if (this.opts.identityFiles.length === 0)
      throw unreadable(
        `the ${what} age:${path} needs an age identity`,
        'give the service an identity file (--age-identity-file)',
      )
    let cipher: Uint8Array
    try {
      cipher = new Uint8Array(readFileSync(path))
    } catch (err) {
      throw unreadable(`cannot read the ${what} age:${path}: ${errorMessage(err)}`, 'check the path', err)
    }
    // Loaded on first use: age-encryption (with its post-quantum and ed25519 code) is ~50 ES module
    // files a node without age secrets would otherwise resolve and load at every start.
    const { armor, Decrypter } = await import('age-encryption')
    const d = new Decrypter()
    for (const file of this.opts.identityFiles) {
      const text = new TextDecoder().decode(readOwnerOnlyFile(file, 'age identity file'))
      for (const line of text.split(/\r?\n/)) if (/^AGE-SECRET-KEY-/.test(line.trim())) d.addIdentity(line.trim())
    }
    // the identities are checked on every read (a world-readable one is refused at once); the plaintext of an unchanged file is kept
    if (this.last && sameBytes(this.last.cipher, cipher)) return this.last.plain
    const armored = new TextDecoder().decode(cipher.subarray(0, 40)).startsWith('-----BEGIN AGE ENCRYPTED FILE-----')
    let plain: Uint8Array
    try {
      plain = await d.decrypt(armored ? armor.decode(new TextDecoder().decode(cipher)) : cipher)
    } catch (err) {
      throw unreadable(
        `cannot decrypt the ${what} age:${path}: ${errorMessage(err)}`,
        "encrypt it to this host's recipient (age-keygen -y IDENTITY) or give the identity that matches",
        err,
      )
    }
    this.last = { cipher, plain }
    return plain
  }
}

/** `name`'s value in a JSON object of strings or in `NAME=value` lines (`#` comments). */
function bundleEntry(text: string, name: string): string | undefined {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    try {
      const v = (JSON.parse(trimmed) as Record<string, unknown>)[name]
      return typeof v === 'string' ? v : undefined
    } catch {
      return undefined
    }
  }
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/.exec(line)
    if (m && m[1] === name) return m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2')
  }
  return undefined
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
