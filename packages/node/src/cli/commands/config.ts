import type { Command } from 'commander'
import { loadConfigWithSources } from '../../config/load.ts'
import { printConfig } from '../../config/print.ts'
import { addNodeOptions, nodeConfigInputs } from '../node-options.ts'

/** Registers `cairn config print`. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration')
  addNodeOptions(config.command('print').description('print the effective config and where each value came from'))
    .addHelpText(
      'after',
      '\nExamples:\n  $ cairn config print --dev\n  $ CAIRN_HTTP_PORT=8546 cairn config print --config cairn.toml\n\nSecrets are shown as [redacted].\n',
    )
    .action((opts: Record<string, unknown>) => {
      process.stdout.write(printConfig(loadConfigWithSources(nodeConfigInputs(opts, process.env))))
    })
}
