import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { runSolcShim } from '../solc-shim.ts'

/**
 * Registers `cairn solc` (for `--help` and the docs check). bin/cairn.js answers `cairn solc` and
 * `cairn-solc` before this parser (solc's options are not Cairn's); this action runs the same shim.
 */
export function registerSolc(program: Command): void {
  program
    .command('solc')
    .description("solc-js behind the native solc command line's --version and --standard-json (offline forge build)")
    .option('--version', "print solc's version banner")
    .option('--standard-json', 'compile the standard-JSON input on stdin (or in a file argument)')
    .option('--base-path <dir>', 'resolve imports the input lacks from here')
    .option('--include-path <dir>', 'also from here (repeatable in the shim)')
    .option('--allow-paths <dirs>', 'accepted, ignored')
    .argument('[input]', 'a standard-JSON input file instead of stdin')
    .addHelpText(
      'after',
      '\nIn foundry.toml:\n  solc = "node_modules/.bin/cairn-solc"\nExample:\n  $ cairn solc --standard-json < input.json > output.json\n',
    )
    .action(() => {
      process.exitCode = runSolcShim(process.argv.slice(process.argv.indexOf('solc') + 1), {
        stdin: () => readFileSync(0, 'utf8'),
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      })
    })
}
