import { createLogger } from '@cairn/service-kit'
import { type Command, Option } from 'commander'
import { loadConfig } from '../../config/load.ts'
import { startNode } from '../../node.ts'
import { VERSION } from '../../version.ts'
import { banner } from '../banner.ts'

/** Registers `cairn start`. */
export function registerStart(program: Command): void {
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
      process.stdout.write(
        `${banner(node, { mnemonic: config.dev_accounts.mnemonic, balanceEth, version: VERSION })}\n`,
      )
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
}
