import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, StopOnSignals } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { ConfigErrorCode } from '../../config/errors.ts'
import { loadConfig } from '../../config/load.ts'
import { loggerOptions } from '../../config/log.ts'
import { effectiveNamespaces } from '../../config/profile.ts'
import { type BeforeListen, startNode } from '../../node.ts'
import { dumpStateFile, loadStateFile } from '../../state-file.ts'
import { VERSION } from '../../version.ts'
import { dumpStateEvery, printTraces, writeConfigOut } from '../anvil-start.ts'
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
      const stateFile = opts.state as string | undefined
      const load =
        (opts.loadState as string | undefined) ?? (stateFile && existsSync(stateFile) ? stateFile : undefined)
      const dump = (opts.dumpState as string | undefined) ?? stateFile
      const interval = opts.stateInterval !== undefined ? positiveSeconds(opts.stateInterval) : undefined
      // Before the port opens: a client never sees the state file half loaded (as Anvil's).
      const beforeListen: BeforeListen = async ({ chain, dev, dispatcher }) => {
        // Anvil's --auto-impersonate: as anvil_autoImpersonateAccount(true) at start.
        if (config.devChain.autoImpersonate && dev) {
          await dispatcher.handleText(
            JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'anvil_autoImpersonateAccount', params: [true] }),
          )
        }
        if ((load || dump) && !dev) {
          logger.warn('--load-state / --dump-state / --state are for dev chains (--dev, not --follow): ignored')
        } else if (load && dev) {
          const loaded = await loadStateFile(load, dev, chain)
          logger.info({ file: load, head: Number(loaded.head), sealed: Number(loaded.sealed) }, 'state loaded')
          if (loaded.fileHead !== undefined && loaded.fileHead > loaded.head) {
            logger.warn(
              { fileHead: Number(loaded.fileHead), head: Number(loaded.head) },
              'the state file names a head too far ahead to seal up to: the chain continues from its own number',
            )
          }
        }
      }
      const node = await startNode(config, { logger, configInputs: inputs, beforeListen })
      // Anvil's --config-out, --state-interval and --print-traces.
      if (opts.configOut) writeConfigOut(opts.configOut as string, node, config)
      const stopInterval =
        interval !== undefined && dump && node.dev ? dumpStateEvery(interval, dump, node, logger) : undefined
      const stopTraces =
        opts.printTraces || opts.enableTracePrinting
          ? printTraces(node, (text) => process.stdout.write(text), logger)
          : undefined
      stopper.arm(logger, async () => {
        stopInterval?.()
        stopTraces?.()
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

/** `--state-interval N`: whole seconds, at least 1. */
function positiveSeconds(v: unknown): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 86_400) {
    throw new CairnError(
      ConfigErrorCode.INVALID,
      `--state-interval ${String(v)}: a whole number of seconds, 1 to 86400`,
      {
        fault: 'caller',
      },
    )
  }
  return n
}
