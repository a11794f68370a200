import {
  ASERT_SPEC_PARAMS,
  bitsFromTarget,
  formatBits,
  nextAsertBits,
  PowErrorCode,
  parseBits,
  targetFromBits,
} from '@cairn/consensus/pow'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'

/** A whole number from a flag (heights and times can pass 2^63: no Number). */
function integer(flag: string, text: string, min?: bigint): bigint {
  const s = text.trim()
  if (!/^-?\d{1,40}$/.test(s)) {
    throw new CairnError(PowErrorCode.INVALID_PARAMS, `${flag}: ${JSON.stringify(s.slice(0, 40))} is not an integer`, {
      fault: 'caller',
      hint: `give ${flag} as a decimal integer`,
    })
  }
  const n = BigInt(s)
  if (min !== undefined && n < min) {
    throw new CairnError(PowErrorCode.INVALID_PARAMS, `${flag} must be at least ${min}, got ${n}`, { fault: 'caller' })
  }
  return n
}

interface AsertOptions {
  anchorHeight: string
  anchorParentTime: string
  anchorBits: string
  height: string
  time: string
  spacing: string
  halfLife: string
  powLimit: string
}

/** Registers `cairn pow`. */
export function registerPow(program: Command): void {
  const pow = program.command('pow').description('proof of work: difficulty (ASERT) and compact targets')
  pow
    .command('asert')
    .description(
      "the compact target of the block after HEIGHT/TIME by ASERT (aserti3-2d, Bitcoin Cash's rule), from an anchor block",
    )
    .requiredOption('--anchor-height <n>', "the anchor block's height")
    .requiredOption('--anchor-parent-time <t>', "the timestamp of the anchor block's parent (seconds)")
    .requiredOption('--anchor-bits <bits>', "the anchor block's compact target (0x1d00ffff)")
    .requiredOption('--height <n>', 'the height of the block built on (the new block is the next one)')
    .requiredOption('--time <t>', 'the timestamp of the block built on (seconds)')
    .option('--spacing <s>', 'target seconds between blocks', String(ASERT_SPEC_PARAMS.spacing))
    .option(
      '--half-life <s>',
      'seconds off schedule that halve or double the target',
      String(ASERT_SPEC_PARAMS.halfLife),
    )
    .option(
      '--pow-limit <bits>',
      'the easiest target allowed, as compact bits',
      formatBits(bitsFromTarget(ASERT_SPEC_PARAMS.powLimit)),
    )
    .addHelpText(
      'after',
      `
Prints the new block's compact target (e.g. 0x1d00ffff). The defaults are the specification's
(Bitcoin Cash mainnet); heights may pass 2^63 and times may go backwards, as in its test vectors.

Example (the specification's run 4, one half-life behind schedule: the target doubles):
  $ cairn pow asert --anchor-height 1 --anchor-parent-time 0 --anchor-bits 0x01010000 --height 2 --time 174000
  0x01020000`,
    )
    .action((opts: AsertOptions) => {
      const powLimit = targetFromBits(parseBits(opts.powLimit, '--pow-limit'))
      const bits = nextAsertBits(
        {
          height: integer('--anchor-height', opts.anchorHeight, 0n),
          parentTime: integer('--anchor-parent-time', opts.anchorParentTime),
          bits: parseBits(opts.anchorBits, '--anchor-bits'),
        },
        { height: integer('--height', opts.height, 0n), time: integer('--time', opts.time) },
        {
          spacing: integer('--spacing', opts.spacing, 1n),
          halfLife: integer('--half-life', opts.halfLife, 1n),
          powLimit,
        },
      )
      process.stdout.write(`${formatBits(bits)}\n`)
    })
}
