import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import {
  decryptKeystore,
  generateMnemonic,
  isValidPrivateKey,
  mnemonicToPrivateKey,
  validateMnemonic,
} from '@cairn/crypto'
import { bytesToHex, CairnError, errorMessage, hexToBytes } from '@cairn/utils'
import type { Command } from 'commander'
import { readPassword } from '../../config/password.ts'
import { datadirLayout } from '../../datadir.ts'
import { NodeErrorCode } from '../../errors.ts'
import { listKeystores, writeKeystore } from '../../keystore-dir.ts'

/** Registers `cairn account`. */
export function registerAccount(program: Command): void {
  const account = program.command('account').description('manage keystore accounts (Web3 Secret Storage v3)')
  const keystoreOption = (cmd: Command) =>
    cmd
      .option('--datadir <dir>', 'datadir whose keystore/ to use', '.cairn/node')
      .option('--keystore <dir>', 'keystore directory (overrides --datadir)')
      .option('--password-file <file>', 'read the password from this file (else CAIRN_PASSWORD, else a prompt)')
  const keystoreDir = (opts: { datadir: string; keystore?: string }) =>
    opts.keystore
      ? isAbsolute(opts.keystore)
        ? opts.keystore
        : resolve(opts.keystore)
      : datadirLayout(opts.datadir).keystore

  keystoreOption(
    account
      .command('new')
      .description('create a new account from a new BIP-39 recovery phrase, encrypted with a password')
      .option(
        '--mnemonic-out <file>',
        'also write the recovery phrase to this file (mode 0600) instead of only printing it',
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn account new --datadir ./mychain --password-file ./pw.txt\n\nThe recovery phrase is shown once: write it down. `cairn account import PHRASEFILE` restores the account.\n',
    )
    .action(async (opts: { datadir: string; keystore?: string; passwordFile?: string; mnemonicOut?: string }) => {
      const password = await readPassword({
        passwordFile: opts.passwordFile,
        env: process.env,
        prompt: 'Password: ',
        confirm: true,
      })
      const mnemonic = generateMnemonic()
      const key = mnemonicToPrivateKey(mnemonic)
      const entry = await writeKeystore(keystoreDir(opts), key, password)
      if (opts.mnemonicOut) writeFileSync(opts.mnemonicOut, `${mnemonic}\n`, { mode: 0o600, flag: 'wx' })
      process.stdout.write(
        `Address:  ${entry.address}\nKeystore: ${entry.file}\nPath:     m/44'/60'/0'/0/0\n` +
          `Recovery phrase (shown once; anyone who has it controls the account):\n  ${mnemonic}\n`,
      )
    })

  keystoreOption(
    account
      .command('export')
      .description("print an account's private key (after its password) — handle the output as the key itself")
      .argument('<address>', 'the account to export'),
  )
    .addHelpText('after', '\nExample:\n  $ cairn account export 0xf39F… --datadir ./mychain --password-file ./pw.txt\n')
    .action(async (address: string, opts: { datadir: string; keystore?: string; passwordFile?: string }) => {
      const entry = listKeystores(keystoreDir(opts)).find((e) => e.address.toLowerCase() === address.toLowerCase())
      if (!entry) {
        throw new CairnError(NodeErrorCode.ACCOUNT_UNKNOWN, `no keystore for ${address} in ${keystoreDir(opts)}`, {
          fault: 'caller',
          hint: 'see `cairn account list`',
        })
      }
      const pw = await readPassword({ passwordFile: opts.passwordFile, env: process.env, prompt: 'Password: ' })
      const key = await decryptKeystore(JSON.parse(readFileSync(entry.file, 'utf8')), pw)
      process.stdout.write(`${bytesToHex(key)}\n`)
    })

  keystoreOption(account.command('list').description('list the accounts of a keystore'))
    .addHelpText('after', '\nExample:\n  $ cairn account list --datadir ./mychain\n')
    .action((opts: { datadir: string; keystore?: string }) => {
      const dir = keystoreDir(opts)
      const entries = listKeystores(dir)
      if (entries.length === 0) process.stdout.write(`no accounts in ${dir}\n`)
      for (const [i, e] of entries.entries()) process.stdout.write(`Account #${i}: ${e.address} keystore://${e.file}\n`)
    })

  keystoreOption(
    account
      .command('import')
      .description('import a private key (hex file), a BIP-39 mnemonic (file) or a keystore JSON')
      .argument('<file>', 'file holding a hex private key, a mnemonic, or a keystore JSON')
      .option('--hd-path <path>', 'derivation path for a mnemonic', "m/44'/60'/0'/0/0"),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ cairn account import key.txt --datadir ./mychain\n  $ cairn account import UTC--...json --datadir ./mychain\n',
    )
    .action(
      async (file: string, opts: { datadir: string; keystore?: string; passwordFile?: string; hdPath: string }) => {
        if (!existsSync(file))
          throw new CairnError(NodeErrorCode.IMPORT_UNREADABLE, `cannot read ${file}`, { fault: 'caller' })
        const text = readFileSync(file, 'utf8').trim()
        let key: Uint8Array
        if (text.startsWith('{')) {
          const pw = await readPassword({
            passwordFile: opts.passwordFile,
            env: process.env,
            prompt: 'Password of the keystore: ',
          })
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch (err) {
            throw new CairnError(
              NodeErrorCode.IMPORT_INVALID,
              `${file} is not valid JSON: ${errorMessage(err).split('\n')[0]}`,
              {
                fault: 'caller',
                hint: 'give a Web3 Secret Storage v3 keystore file, a hex private key or a mnemonic',
              },
            )
          }
          key = await decryptKeystore(json, pw)
        } else if (validateMnemonic(text)) {
          key = mnemonicToPrivateKey(text, opts.hdPath)
        } else {
          key = hexToBytes(text)
          if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text) || !isValidPrivateKey(key)) {
            throw new CairnError(
              NodeErrorCode.IMPORT_INVALID,
              `${file} holds neither a 32-byte hex private key, a mnemonic, nor a keystore JSON`,
              {
                fault: 'caller',
              },
            )
          }
        }
        const password = await readPassword({
          passwordFile: opts.passwordFile,
          env: process.env,
          prompt: 'New password: ',
          confirm: true,
        })
        const entry = await writeKeystore(keystoreDir(opts), key, password)
        process.stdout.write(`Imported ${entry.address}\nKeystore: ${entry.file}\n`)
      },
    )
}
