import { closeLogs, createLogger } from '@cairn/service-kit'
import type { Command } from 'commander'
import { loadConfig } from '../../config/load.ts'
import { loggerOptions } from '../../config/log.ts'
import { startNode } from '../../node.ts'
import { VERSION } from '../../version.ts'
import { banner } from '../banner.ts'
import { addNodeOptions, nodeConfigInputs } from '../node-options.ts'

/** Registers `cairn start`. */
export function registerStart(program: Command): void {
  addNodeOptions(program.command('start').description('run a node (JSON-RPC over HTTP and WebSocket on one port)'))
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
      const inputs = nodeConfigInputs(opts, process.env)
      const config = loadConfig(inputs)
      const logger = createLogger(loggerOptions(config))
      const node = await startNode(config, { logger, configInputs: inputs })
      const balanceEth = (config.dev_accounts.balance / 10n ** 18n).toString()
      process.stdout.write(
        `${banner(node, { mnemonic: config.dev_accounts.mnemonic, balanceEth, version: VERSION, bindAddr: config.http.addr })}\n`,
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
            void closeLogs(logger).then(() => process.exit(0))
          },
          (err) => {
            logger.error({ err }, 'shutdown failed')
            void closeLogs(logger).then(() => process.exit(1))
          },
        )
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
    })
}
