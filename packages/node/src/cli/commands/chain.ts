/**
 * `cairn chain accept-branch <hash> --url …`: the way out of proof of work's reorg limit. A node
 * that was cut off for more blocks than `pow.maxReorgDepth` refuses the heavier branch when it
 * reconnects (cairn_pow_reorgs_refused_total, a warning naming the branch's block); an operator who
 * knows that branch is the network's accepts it through the node's admin JSON-RPC
 * (`cairn_acceptBranch`). The next block on it that is heavier than the head moves the head there.
 */

import { PowErrorCode } from '@cairn/consensus/pow'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'

/** Registers `cairn chain`. */
export function registerChain(program: Command): void {
  const chain = program.command('chain').description("operate a running node's chain")
  chain
    .command('accept-branch')
    .description('proof of work: let a branch past the reorg limit (the node must have the block)')
    .argument('<hash>', 'a block of the branch (the refused one the log names, or a later one)')
    .option('--url <url>', "the node's JSON-RPC URL (admin namespace)", 'http://127.0.0.1:8545')
    .option('--token <token>', 'a bearer token with the admin role, if the RPC requires one')
    .action(async (hash: string, opts: { url: string; token?: string }) => {
      if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) {
        throw new CairnError(PowErrorCode.UNKNOWN_BRANCH, `${hash.slice(0, 80)} is not a block hash`, {
          fault: 'caller',
          hint: 'give the 32-byte hash, 0x and 64 hex digits',
        })
      }
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'cairn_acceptBranch', params: [hash] }),
      })
      const body = (await res.json()) as {
        result?: { number: string; canonical: boolean }
        error?: { message: string }
      }
      if (body.error || !body.result) {
        throw new CairnError(PowErrorCode.UNKNOWN_BRANCH, `cairn_acceptBranch: ${body.error?.message ?? 'no answer'}`, {
          fault: 'caller',
        })
      }
      process.stdout.write(
        `accepted block ${BigInt(body.result.number)} ${hash}${body.result.canonical ? ' (already canonical)' : ': the head moves there at its branch’s next heavier block'}\n`,
      )
    })
}
