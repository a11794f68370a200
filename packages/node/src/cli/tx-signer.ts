/**
 * The account a transaction command (`cairn staking …`, `cairn gov …`) signs with: a keystore and
 * its password file, a hex private-key file (a validator's `DATADIR/keys/validator.key` is one), or
 * a dev account of the default mnemonic on a devnet. Never a key on argv; key and password files
 * must be readable by their owner only (mode 0600), as geth's keystore.
 */
import { readFileSync, statSync } from 'node:fs'
import { decryptKeystore } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { DEFAULT_DEV_MNEMONIC, devAccounts } from '../dev-accounts.ts'
import { NodeErrorCode } from '../errors.ts'

export interface SignerFlags {
  keyFile?: string
  passwordFile?: string
  privateKeyFile?: string
  devAccount?: string
}

/** Adds the signing flags to a command. */
export function signerOptions(c: Command): Command {
  return c
    .option('--key-file <file>', 'Web3 Secret Storage v3 keystore (JSON) of the signing account')
    .option('--password-file <file>', "the keystore's password (mode 0600)")
    .option(
      '--private-key-file <file>',
      'a file holding the hex private key (mode 0600), e.g. DATADIR/keys/validator.key',
    )
    .option('--dev-account <index>', 'a dev account of the default mnemonic (devnets only: its keys are public)')
}

const bad = (message: string, hint: string) =>
  new CairnError(NodeErrorCode.TX_SIGNER, message, { fault: 'caller', hint })

function secret(path: string, what: string): string {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch {
    throw bad(`cannot read the ${what} ${path}`, 'check the path')
  }
  if ((mode & 0o077) !== 0) {
    throw bad(
      `the ${what} ${path} has mode ${mode.toString(8).padStart(4, '0')}: other users can read or write it`,
      `run \`chmod 600 ${path}\` (and consider the key exposed)`,
    )
  }
  return readFileSync(path, 'utf8')
}

/** The account the flags name. */
export async function loadTxSigner(f: SignerFlags): Promise<LocalAccount> {
  const given = [f.keyFile, f.privateKeyFile, f.devAccount].filter((x) => x !== undefined).length
  if (given === 0) {
    throw bad(
      'a signing key is needed',
      'pass --key-file KEYSTORE --password-file FILE, --private-key-file FILE, or --dev-account N',
    )
  }
  if (given > 1) throw bad('pass one of --key-file, --private-key-file and --dev-account', 'choose one signing key')
  if (f.devAccount !== undefined) {
    if (!/^\d+$/.test(f.devAccount) || Number(f.devAccount) > 99)
      throw bad(`--dev-account ${f.devAccount}`, 'expected 0 to 99')
    const acc = devAccounts(DEFAULT_DEV_MNEMONIC, Number(f.devAccount) + 1)[Number(f.devAccount)]
    return privateKeyToAccount(`0x${Buffer.from(acc?.privateKey ?? new Uint8Array()).toString('hex')}`)
  }
  if (f.privateKeyFile !== undefined) {
    const hex = secret(f.privateKeyFile, 'private key file').trim().replace(/^0x/, '')
    if (!/^[0-9a-fA-F]{64}$/.test(hex))
      throw bad(`${f.privateKeyFile} does not hold a 32-byte hex private key`, 'write 64 hex digits')
    return privateKeyToAccount(`0x${hex}`)
  }
  if (f.passwordFile === undefined)
    throw bad('--key-file needs --password-file', 'pass the password in a file of mode 0600')
  const password = secret(f.passwordFile, 'password file').replace(/\r?\n$/, '')
  let key: Uint8Array
  try {
    key = await decryptKeystore(JSON.parse(readFileSync(f.keyFile as string, 'utf8')), password)
  } catch (err) {
    throw bad(`cannot decrypt ${f.keyFile}: ${(err as Error).message}`, 'check the keystore file and its password')
  }
  return privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}`)
}
