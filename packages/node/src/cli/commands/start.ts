import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, StopOnSignals } from '@cairn/service-kit'
import type { Command } from 'commander'
import { loadConfig } from '../../config/load.ts'
import { loggerOptions } from '../../config/log.ts'
import { effectiveNamespaces } from '../../config/profile.ts'
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
      // SIGINT, SIGTERM, or the log output's reader gone (EPIPE): the node stops cleanly
      const stopper = new StopOnSignals()
      const logger = createLogger({ ...loggerOptions(config), onBrokenPipe: stopper.onBrokenPipe })
      const node = await startNode(config, { logger, configInputs: inputs })
      // Anvil's --auto-impersonate: as anvil_autoImpersonateAccount(true) at start.
      if (config.devChain.autoImpersonate && node.dev) {
        await node.dispatcher.handleText(
          JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'anvil_autoImpersonateAccount', params: [true] }),
        )
      }
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
      stopper.arm(logger, async () => {
        try {
          if (dump && node.dev) {
            await dumpStateFile(dump, node.chain)
            logger.info({ file: dump }, 'state written')
          }
        } finally {
          // closed even when the state file could not be written (the stop then exits 1)
          await node.close()
        }
      })
      // A scheduled upgrade this build does not know: the node stops at its height, leaving
      // DATADIR/upgrade-info.json ({ name, height }) for a supervisor to pick the release, as Cosmos does.
      void node.halted.then((err) => {
        const plan = /UPGRADE "([^"]+)" NEEDED at height (\d+)/.exec(err.message)
        if (plan && node.datadir) {
          writeFileSync(
            join(node.datadir.root, 'upgrade-info.json'),
            `${JSON.stringify({ name: plan[1], height: Number(plan[2]) })}\n`,
          )
        }
        logger.error({ hint: err.hint }, err.message)
        stopper.stop(err.message)
      })
      const balanceEth = (config.dev_accounts.balance / 10n ** 18n).toString()
      process.stdout.write(
        `${banner(node, {
          mnemonic: config.dev_accounts.mnemonic,
          balanceEth,
          version: VERSION,
          bindAddr: config.http.addr,
          namespaces: effectiveNamespaces(config),
        })}\n`,
      )
    })
}
