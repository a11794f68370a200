// The signing key, from a Web3 Secret Storage v3 keystore (the node's code in @cairn/crypto) with
// its password in a file, a raw hex key in a file (a secret manager's file mount), or a key that
// never enters this process: on a PKCS#11 token (@cairn/keys) or a remote signer (`cairn signer
// serve --tx-keystore`, under its policy). A key in this process never leaves this
// function except inside the viem account; nothing here logs it, its password or a PIN.
import { readFile } from 'node:fs/promises'
import { decryptKeystore } from '@cairn/crypto'
import { type ExternalKeySource, KeysErrorCode, openHsmAccount, openRemoteTxAccount } from '@cairn/keys'
import { activeTraceContext } from '@cairn/service-kit'
import { bytesToHex, CairnError, isCairnError, type Logger, silentLogger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { ArbErrorCode } from '../errors.ts'

export type KeySource = { keystore: string; passwordFile: string } | { keyFile: string } | ExternalKeySource

/** The signing account, and what releases its key (logs out of the token) once nothing signs. */
export interface LoadedSigner {
  account: LocalAccount
  close(): void
}

function unreadable(what: string, cause?: unknown, hint?: string): CairnError {
  return new CairnError(ArbErrorCode.KEY_UNREADABLE, what, {
    fault: 'caller',
    ...(cause ? { cause } : {}),
    ...(hint ? { hint } : {}),
  })
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw unreadable(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, err)
  }
}

/** Loads the signing account. Errors name the file or the token, never a secret. */
export async function loadSigner(
  src: KeySource,
  modules: { logger?: Logger | null; registry?: Registry | null } = {},
): Promise<LoadedSigner> {
  if ('hsm' in src) return openHsmAccount(src.hsm, modules)
  if ('remote' in src)
    return openRemoteTxAccount(src.remote, {
      logger: modules.logger ?? silentLogger,
      registry: modules.registry ?? null,
      // each request names the active span (the signing span): the signer's log line joins the trace
      traceContext: activeTraceContext,
    })
  return { account: await loadLocal(src), close: () => {} }
}

async function loadLocal(src: Exclude<KeySource, ExternalKeySource>): Promise<LocalAccount> {
  if ('keyFile' in src) {
    const text = (await readText(src.keyFile, 'key file')).trim()
    const hex = text.startsWith('0x') ? text : `0x${text}`
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex))
      throw unreadable(
        `the key file ${src.keyFile} does not hold a 32-byte hex key`,
        undefined,
        'one line of 64 hex digits',
      )
    return privateKeyToAccount(hex as `0x${string}`)
  }
  // a password file's trailing newline is not part of the password (as geth's --password)
  const password = (await readText(src.passwordFile, 'password file')).replace(/\r?\n$/, '')
  let json: unknown
  try {
    json = JSON.parse(await readText(src.keystore, 'keystore'))
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw unreadable(`the keystore ${src.keystore} is not JSON`, err)
  }
  let key: Uint8Array
  try {
    key = await decryptKeystore(json, password)
  } catch (err) {
    throw unreadable(`cannot decrypt the keystore ${src.keystore} (wrong password or damaged file)`, err)
  }
  const account = privateKeyToAccount(bytesToHex(key) as `0x${string}`)
  key.fill(0)
  return account
}

/**
 * The remote signer's refusal of a transaction under its policy (`--tx-allow-to`, `--tx-max-value`,
 * …) somewhere in `err`'s cause chain (viem wraps what the account throws), or null. It is no
 * transient fault: every later trade would be refused the same way until the policy or the
 * executor address is fixed.
 */
export function signerRefusal(err: unknown): CairnError | null {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 16; depth++) {
    if (isCairnError(e, KeysErrorCode.SIGNER_REFUSED)) return e
    e = (e as { cause?: unknown }).cause
  }
  return null
}
