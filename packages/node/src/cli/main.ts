import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { Chain } from '@cairn/chain'
import {
  decryptKeystore,
  generateMnemonic,
  isValidPrivateKey,
  mnemonicToPrivateKey,
  validateMnemonic,
} from '@cairn/crypto'
import { LevelKV } from '@cairn/db'
import { createLogger } from '@cairn/service-kit'
import { CairnError, errorMessage, hexToBytes, isCairnError, silentLogger } from '@cairn/utils'
import { Command, Option } from 'commander'
import { loadConfig } from '../config/load.ts'
import { readPassword } from '../config/password.ts'
import { datadirLayout, prepareDatadir } from '../datadir.ts'
import { readGenesisFile } from '../genesis-file.ts'
import { listKeystores, writeKeystore } from '../keystore-dir.ts'
import { startNode } from '../node.ts'
import { VERSION } from '../version.ts'
import { banner } from './banner.ts'

const program = new Command()
program
  .name('cairn')
  .description('Cairn: an EVM chain node. Run a dev chain with `cairn start --dev`.')
  .version(VERSION, '-v, --version')
  .showHelpAfterError('(run with --help for usage)')

program
  .command('start')
  .description('run a node (JSON-RPC over HTTP and WebSocket on one port)')
  .option('--dev', 'dev chain: chain id 1337, 10 funded and unlocked accounts, blocks on demand')
  .option('--ephemeral', 'keep nothing: state lives in memory and is gone on exit')
  .option('--datadir <dir>', 'where the chain is kept (default ./.cairn/dev with --dev, ./.cairn/node otherwise)')
  .option('--config <file>', 'a TOML or JSON config file')
  .option('--genesis <file>', 'a geth-style genesis.json (needed once, for a new datadir)')
  .option('--http.addr <addr>', 'address the RPC listens on (default 127.0.0.1)')
  .option('--http.port <port>', 'port of HTTP and WebSocket JSON-RPC (default 8545; 0 = any free port)')
  .option(
    '--block-time <seconds>',
    'seal a block every N seconds, empty ones included (default: when transactions arrive)',
  )
  .option('--chain-id <id>', 'chain id of a new dev chain (default 1337)')
  .addOption(
    new Option('--log.level <level>', 'log level').choices([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'silent',
    ]),
  )
  .addOption(new Option('--log.format <format>', 'log format').choices(['json', 'pretty', 'auto']))
  .addHelpText(
    'after',
    `
Examples:
  $ cairn start --dev                               a dev chain on http://127.0.0.1:8545, kept in ./.cairn/dev
  $ cairn start --dev --ephemeral --http.port 9545  a throw-away chain on another port
  $ cairn start --dev --block-time 2                a block every 2 seconds
  $ cairn init --genesis genesis.json --datadir ./mychain && cairn start --datadir ./mychain

Every flag can also come from the environment (CAIRN_HTTP_PORT=8546) or a config file
(--config cairn.toml, with [http] port = 8546). Flags win over the environment, which wins over the file.`,
  )
  .action(async (opts: Record<string, unknown>) => {
    const config = loadConfig({
      file: opts.config as string | undefined,
      env: process.env,
      flags: {
        dev: opts.dev,
        ephemeral: opts.ephemeral,
        datadir: opts.datadir,
        genesis: opts.genesis,
        'http.addr': opts['http.addr'],
        'http.port': opts['http.port'],
        blockTime: opts.blockTime,
        chainId: opts.chainId,
        'log.level': opts['log.level'],
        'log.format': opts['log.format'],
      },
    })
    const logger = createLogger({ level: config.log.level, format: config.log.format })
    const node = await startNode(config, { logger })
    const balanceEth = (config.dev_accounts.balance / 10n ** 18n).toString()
    process.stdout.write(`${banner(node, { mnemonic: config.dev_accounts.mnemonic, balanceEth, version: VERSION })}\n`)
    let exiting = false
    const onSignal = (sig: NodeJS.Signals) => {
      if (exiting) {
        process.stderr.write('second signal: exiting now\n')
        process.exit(130)
      }
      exiting = true
      logger.info({ signal: sig }, 'shutting down')
      node.close().then(
        () => {
          logger.info('stopped cleanly')
          setTimeout(() => process.exit(0), 50)
        },
        (err) => {
          logger.error({ err }, 'shutdown failed')
          setTimeout(() => process.exit(1), 50)
        },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })

program
  .command('init')
  .description('create a new chain in a datadir from a genesis file')
  .requiredOption('--genesis <file>', 'a geth-style genesis.json')
  .requiredOption('--datadir <dir>', 'the datadir to create the chain in')
  .addHelpText('after', '\nExample:\n  $ cairn init --genesis genesis.json --datadir ./mychain\n')
  .action(async (opts: { genesis: string; datadir: string }) => {
    const json = readGenesisFile(opts.genesis)
    const layout = prepareDatadir(opts.datadir)
    const kv = new LevelKV({ path: layout.chaindata })
    await kv.open()
    try {
      const chain = await Chain.open(
        { genesis: json, genesisSource: opts.genesis },
        {
          kv,
          logger: silentLogger,
          metrics: null,
          engine: {
            name: 'init',
            validateHeader: async () => {},
            finalize: async () => {},
            preferHead: async () => false,
            safeNumber: (h) => h.number,
            finalizedNumber: (h) => h.number,
          },
        },
      )
      const verb = chain.report.created ? 'initialised' : 'already holds'
      process.stdout.write(
        `${layout.root} ${verb} chain ${chain.chainId} with genesis ${Buffer.from(chain.genesisBlock.hash()).toString('hex')}\n`,
      )
    } finally {
      await kv.close()
    }
  })

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

keystoreOption(account.command('new').description('create a new account, encrypted with a password'))
  .addHelpText('after', '\nExample:\n  $ cairn account new --datadir ./mychain --password-file ./pw.txt\n')
  .action(async (opts: { datadir: string; keystore?: string; passwordFile?: string }) => {
    const password = await readPassword({
      passwordFile: opts.passwordFile,
      env: process.env,
      prompt: 'Password: ',
      confirm: true,
    })
    const mnemonic = generateMnemonic()
    const key = mnemonicToPrivateKey(mnemonic)
    const entry = await writeKeystore(keystoreDir(opts), key, password)
    process.stdout.write(`Address:  ${entry.address}\nKeystore: ${entry.file}\n`)
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
  .action(async (file: string, opts: { datadir: string; keystore?: string; passwordFile?: string; hdPath: string }) => {
    if (!existsSync(file)) throw new CairnError('NODE_IMPORT_UNREADABLE', `cannot read ${file}`, { fault: 'caller' })
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
        throw new CairnError('NODE_IMPORT_INVALID', `${file} is not valid JSON: ${errorMessage(err).split('\n')[0]}`, {
          fault: 'caller',
          hint: 'give a Web3 Secret Storage v3 keystore file, a hex private key or a mnemonic',
        })
      }
      key = await decryptKeystore(json, pw)
    } else if (validateMnemonic(text)) {
      key = mnemonicToPrivateKey(text, opts.hdPath)
    } else {
      key = hexToBytes(text)
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text) || !isValidPrivateKey(key)) {
        throw new CairnError(
          'NODE_IMPORT_INVALID',
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
  })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const msg = (isCairnError(err) ? err.userMessage : errorMessage(err)).replace(/\s*\n\s*/g, ' ')
  process.stderr.write(`error: ${msg}\n`)
  if (!isCairnError(err) || err.fault === 'internal') process.stderr.write(`${(err as Error).stack ?? ''}\n`)
  process.exit(isCairnError(err) && err.fault === 'caller' ? 2 : 1)
}
