import { existsSync } from 'node:fs'
import { closeLogs, createLogger } from '@cairn/service-kit'
import type { Command } from 'commander'
import { loadConfig } from '../../config/load.ts'
import { loggerOptions } from '../../config/log.ts'
import { startNode } from '../../node.ts'
import { dumpStateFile, loadStateFile } from '../../state-file.ts'
import { VERSION } from '../../version.ts'
import { banner } from '../banner.ts'
import { addNodeOptions, nodeConfigInputs } from '../node-options.ts'

/** Registers `cairn start`. */
export function registerStart(program: Command): void {
  addNodeOptions(program.command('start').description('run a node (JSON-RPC over HTTP and WebSocket on one port)'))
    .option('--load-state <file>', "dev: load the accounts of an Anvil state file (anvil_dumpState's JSON) at start")
    .option('--dump-state <file>', "dev: write the state to FILE (Anvil's JSON) on a clean stop")
    .option('--state <file>', 'dev: --load-state FILE when it exists, and --dump-state FILE')
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
      // set once the node is up: the log output's reader going away stops it (below)
      let onBrokenPipe = () => {}
      const logger = createLogger({ ...loggerOptions(config), onBrokenPipe: () => onBrokenPipe() })
      const node = await startNode(config, { logger, configInputs: inputs })
      const stateFile = opts.state as string | undefined
      const load =
        (opts.loadState as string | undefined) ?? (stateFile && existsSync(stateFile) ? stateFile : undefined)
      const dump = (opts.dumpState as string | undefined) ?? stateFile
      if ((load || dump) && !node.dev) {
        logger.warn('--load-state / --dump-state / --state are for dev chains (--dev, not --follow): ignored')
      } else if (load && node.dev) {
        await loadStateFile(load, node.dev)
        logger.info({ file: load }, 'state loaded')
      }
      let exiting = false
      const shutdown = (why: string) => {
        exiting = true
        logger.info({ signal: why }, 'shutting down')
        const dumped =
          dump && node.dev
            ? dumpStateFile(dump, node.chain).then(() => logger.info({ file: dump }, 'state written'))
            : Promise.resolve()
        dumped
          .then(() => node.close())
          .then(
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
      const onSignal = (sig: NodeJS.Signals) => {
        if (exiting) {
          try {
            process.stderr.write('second signal: exiting now\n')
          } catch {}
          process.exit(130)
        }
        shutdown(sig)
      }
      // The reader of stdout or stderr went away (`cairn start | head`, a log shipper that died):
      // nothing can be said any more, so the node stops as on SIGTERM — cleanly, the database
      // closed — instead of dying on the unhandled EPIPE (or, before, hanging in the exit's flush).
      onBrokenPipe = () => {
        if (!exiting) shutdown('EPIPE')
      }
      const onStdioError = (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err
        onBrokenPipe()
      }
      process.stdout.on('error', onStdioError)
      process.stderr.on('error', onStdioError)
      const balanceEth = (config.dev_accounts.balance / 10n ** 18n).toString()
      process.stdout.write(
        `${banner(node, { mnemonic: config.dev_accounts.mnemonic, balanceEth, version: VERSION, bindAddr: config.http.addr })}\n`,
      )
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
    })
}
