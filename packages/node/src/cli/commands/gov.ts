/**
 * `cairn gov …`: on-chain governance through the governance system contract
 * (`GOVERNANCE_ADDRESS`): proposals that change parameters, spend the community pool or schedule
 * an upgrade; votes weighted by bonded stake; tally and execution after the timelock. Each
 * transaction is simulated first: a refused one prints the contract's custom error (exit 2).
 */
import {
  PROPOSAL_STATUS,
  type ProposalRequest,
  proposalActions,
  VOTE_OPTION_NAMES,
  VOTE_OPTIONS,
} from '@cairn/consensus/governance'
import { GOVERNANCE_ADDRESS, governance, STAKING_ADDRESS, staking } from '@cairn/contracts'
import { type Command, InvalidArgumentError } from 'commander'
import { type Abi, formatEther, type Hex } from 'viem'
import { connect, eventOf, type SendResult, sendContractTx } from '../chain-tx/contract-tx.ts'
import { loadTxSigner, type SignerFlags, signerOptions } from '../tx-signer.ts'
import { coins, usage } from './staking.ts'

const GOV_ABI = governance.abi as Abi
const STAKING_ABI = staking.abi as Abi
const GOV = GOVERNANCE_ADDRESS as Hex
const STAKING = STAKING_ADDRESS as Hex

/** `proposal N: passed (yes …, no …)` from a tally's receipt when it decided; null while it counts on. */
function tallyOutcome(r: SendResult): string | null {
  const t = r.events.find((e) => e.eventName === 'ProposalTallied')?.args as
    | { id: bigint; status: number; yes: bigint; abstain: bigint; no: bigint; veto: bigint; depositBurned: boolean }
    | undefined
  if (t === undefined) return null
  const c = (v: bigint) => formatEther(v)
  return (
    `proposal ${t.id}: ${PROPOSAL_STATUS[Number(t.status)] ?? t.status} ` +
    `(yes ${c(t.yes)}, no ${c(t.no)}, veto ${c(t.veto)}, abstain ${c(t.abstain)} coins` +
    `${t.depositBurned ? '; deposit burned' : ''})`
  )
}

function option(v: string): number {
  const n = VOTE_OPTIONS[v as keyof typeof VOTE_OPTIONS]
  if (n === undefined) throw new InvalidArgumentError('expected yes, no, abstain or veto')
  return n
}

function id(v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a proposal number')
  return BigInt(v)
}

const collect = (v: string, all: string[] = []) => [...all, v]

interface ProposeOpts extends SignerFlags, ProposalRequest {
  rpc: string
  title: string
  description: string
  deposit: bigint
  param?: string[]
  spend?: string[]
}

/** Registers `cairn gov`. */
export function registerGov(program: Command): void {
  const gov = program
    .command('gov')
    .description('on-chain governance: proposals, votes, tally and execution')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ cairn gov propose --title "raise the gas limit" --gas-limit 60000000 --deposit 10 --dev-account 0\n' +
        '  $ cairn gov vote --id 1 --option yes --private-key-file node-1/keys/validator.key\n' +
        '  $ cairn gov status --id 1\n' +
        '  $ cairn gov tally --id 1 --dev-account 0 && cairn gov execute --id 1 --dev-account 0\n',
    )
  const tx = (name: string, description: string) =>
    signerOptions(
      gov
        .command(name)
        .description(description)
        .option('--rpc <url>', "a node's JSON-RPC URL", 'http://127.0.0.1:8545'),
    )
  const send = async (
    o: SignerFlags & { rpc: string },
    functionName: string,
    args: readonly unknown[],
    value?: bigint,
  ) => {
    const account = await loadTxSigner(o)
    const client = await connect(o.rpc)
    const r = await sendContractTx(client, account, {
      address: GOV,
      abi: GOV_ABI,
      functionName,
      args,
      ...(value ? { value } : {}),
    })
    process.stdout.write(
      `${functionName}: ${r.hash} in block ${r.blockNumber} (gas ${r.gasUsed}) from ${account.address}\n`,
    )
    return { client, receipt: r }
  }

  tx('propose', 'submit a proposal with a deposit')
    .requiredOption('--title <text>', 'a short title')
    .option('--description <text>', 'what and why', '')
    .requiredOption('--deposit <coins>', 'the deposit (at least governance.minDeposit)', coins)
    .option('--param <group.name=value>', 'a parameter change, e.g. staking.maxValidators=50 (repeatable)', collect)
    .option('--gas-limit <gas>', 'a new block gas limit')
    .option('--min-base-fee <wei>', 'a new minimum base fee')
    .option('--block-time <ms>', 'a new block time')
    .option('--upgrade <name@height>', 'schedule a named upgrade at a height')
    .option('--spend <address:coins>', 'pay from the community pool (repeatable)', collect)
    .action(async (o: ProposeOpts) => {
      const client = await connect(o.rpc)
      // The actions (parameter changes over the values in force, an upgrade, spends): governance/actions.ts.
      const actions = await proposalActions(
        o,
        (address, abi, functionName) => client.public.readContract({ address, abi, functionName }),
        usage,
      )
      const { receipt } = await send(o, 'submitProposal', [actions, o.title, o.description], o.deposit)
      // The id its own receipt logged: `proposalCount()` read now would name another proposal
      // when one more landed in the same block or after it.
      const submitted = eventOf(receipt, 'ProposalSubmitted') as { id: bigint; votingEndBlock: bigint }
      process.stdout.write(`proposal ${submitted.id}: voting until block ${submitted.votingEndBlock}\n`)
    })
  tx('vote', 'vote on a proposal (weighted by your bonded stake)')
    .requiredOption('--id <n>', 'the proposal', id)
    .requiredOption('--option <vote>', 'yes, no, abstain or veto', option)
    .action(async (o: SignerFlags & { rpc: string; id: bigint; option: number }) => {
      const { receipt } = await send(o, 'vote', [o.id, o.option])
      const voted = eventOf(receipt, 'Voted') as { id: bigint; option: number }
      process.stdout.write(`voted ${VOTE_OPTION_NAMES[Number(voted.option)] ?? voted.option} on proposal ${voted.id}\n`)
    })
  tx('tally', 'count the votes of a proposal whose voting period ended')
    .requiredOption('--id <n>', 'the proposal', id)
    .action(async (o: SignerFlags & { rpc: string; id: bigint }) => {
      // The contract counts 16 voters per call (a block's gas): call again until it decides. The
      // outcome is the one its own receipt logged (ProposalTallied), not the status read later.
      for (let calls = 0; calls < 100; calls++) {
        const { receipt } = await send(o, 'tally', [o.id])
        const tallied = tallyOutcome(receipt)
        if (tallied !== null) {
          process.stdout.write(`${tallied}\n`)
          return
        }
      }
    })
  tx('execute', 'run a passed proposal after its timelock')
    .requiredOption('--id <n>', 'the proposal', id)
    .action(async (o: SignerFlags & { rpc: string; id: bigint }) => {
      const { receipt } = await send(o, 'execute', [o.id])
      process.stdout.write(`proposal ${(eventOf(receipt, 'ProposalExecuted') as { id: bigint }).id}: executed\n`)
    })
  gov
    .command('status')
    .description('a proposal, or the parameters and the scheduled upgrade')
    .option('--id <n>', 'the proposal', id)
    .option('--rpc <url>', "a node's JSON-RPC URL", 'http://127.0.0.1:8545')
    .action(async (o: { rpc: string; id?: bigint }) => {
      const client = await connect(o.rpc)
      const read = (functionName: string, args: readonly unknown[] = []) =>
        client.public.readContract({ address: GOV, abi: GOV_ABI, functionName, args })
      const show = (v: unknown): unknown =>
        typeof v === 'bigint'
          ? v.toString()
          : Array.isArray(v)
            ? v.map(show)
            : v !== null && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, show(x)]))
              : v
      if (o.id !== undefined) {
        process.stdout.write(`${JSON.stringify(show(await read('getProposal', [o.id])), null, 2)}\n`)
        return
      }
      const [name, height] = (await read('upgradePlan')) as [string, bigint]
      process.stdout.write(
        `${JSON.stringify(
          show({
            proposals: await read('proposalCount'),
            govParams: await read('govParams'),
            chainParams: await read('chainParams'),
            upgrade: name === '' ? null : { name, height },
            communityPool: formatEther(
              (await client.public.readContract({
                address: STAKING,
                abi: STAKING_ABI,
                functionName: 'communityPool',
              })) as bigint,
            ),
          }),
          null,
          2,
        )}\n`,
      )
    })
}
