/**
 * A governance proposal's actions (`Governance.submitProposal(actions, …)`: calls the contract makes
 * once the proposal passed and its timelock ran out), from what a proposer asks for: parameter
 * changes over the values in force (`Staking.setParams`, `Governance.setGovParams`,
 * `setChainParams`), a scheduled upgrade, community-pool spends. `cairn gov propose` builds its
 * proposal here; any other client may too.
 */
import { GOVERNANCE_ADDRESS, governanceAbi, STAKING_ADDRESS, stakingAbi } from '@cairn/contracts'
import { type Abi, encodeFunctionData, type Hex, parseEther } from 'viem'
import { applyParamChanges, parseParamChange } from './params.ts'

/** One call a passed proposal makes. */
export interface ProposalAction {
  target: Hex
  value: bigint
  data: Hex
}

/** What a proposal asks for (each optional; at least one). */
export interface ProposalRequest {
  /** `staking.<name>=<integer>` or `governance.<name>=<integer>` (base units: wei, blocks, bps). */
  param?: readonly string[]
  /** A new block gas limit, minimum base fee (wei), block time (ms): integers as text. */
  gasLimit?: string | undefined
  minBaseFee?: string | undefined
  blockTime?: string | undefined
  /** `NAME@HEIGHT`: an upgrade to schedule. */
  upgrade?: string | undefined
  /** `ADDRESS:COINS`: a payment from the community pool. */
  spend?: readonly string[]
}

/** Reads a view of a system contract (the parameters in force), e.g. viem's `readContract`. */
export type SystemContractRead = (address: Hex, abi: Abi, functionName: string) => Promise<unknown>

/**
 * The actions of `request`, the parameter changes applied over the values `read` returns. What it
 * cannot make sense of throws `refuse(message, hint)` (the caller's error).
 */
export async function proposalActions(
  request: ProposalRequest,
  read: SystemContractRead,
  refuse: (message: string, hint: string) => Error,
): Promise<ProposalAction[]> {
  const STAKING = STAKING_ADDRESS as Hex
  const GOV = GOVERNANCE_ADDRESS as Hex
  const actions: ProposalAction[] = []
  const byGroup = new Map<string, [string, string][]>()
  for (const p of request.param ?? []) {
    const change = parseParamChange(p)
    if (change === null)
      throw refuse(`--param ${p}`, 'expected staking.<name>=<integer> or governance.<name>=<integer>')
    byGroup.set(change.group, [...(byGroup.get(change.group) ?? []), [change.name, change.value]])
  }
  const withChanges = (current: unknown, changes: [string, string][], what: string) =>
    applyParamChanges(current as Record<string, unknown>, changes, (problem) =>
      problem.kind === 'unknown'
        ? refuse(`${what} has no parameter ${problem.name}`, `it has ${problem.known.join(', ')}`)
        : refuse(
            `${what}.${problem.name}=${problem.value}: expected an integer`,
            'write the value in base units (wei, blocks, basis points)',
          ),
    )
  const st = byGroup.get('staking')
  if (st) {
    const p = withChanges(await read(STAKING, stakingAbi, 'params'), st, 'staking')
    actions.push({
      target: STAKING,
      value: 0n,
      data: encodeFunctionData({ abi: stakingAbi as Abi, functionName: 'setParams', args: [p] }),
    })
  }
  const gv = byGroup.get('governance')
  if (gv) {
    const p = withChanges(await read(GOV, governanceAbi, 'govParams'), gv, 'governance')
    actions.push({
      target: GOV,
      value: 0n,
      data: encodeFunctionData({ abi: governanceAbi as Abi, functionName: 'setGovParams', args: [p] }),
    })
  }
  const chainChanges: [string, string][] = []
  if (request.gasLimit !== undefined) chainChanges.push(['blockGasLimit', request.gasLimit])
  if (request.minBaseFee !== undefined) chainChanges.push(['minBaseFee', request.minBaseFee])
  if (request.blockTime !== undefined) chainChanges.push(['blockTimeMs', request.blockTime])
  if (chainChanges.length > 0) {
    const p = withChanges(await read(GOV, governanceAbi, 'chainParams'), chainChanges, 'chain')
    actions.push({
      target: GOV,
      value: 0n,
      data: encodeFunctionData({ abi: governanceAbi as Abi, functionName: 'setChainParams', args: [p] }),
    })
  }
  if (request.upgrade !== undefined) {
    const m = /^([A-Za-z0-9._-]{1,64})@(\d+)$/.exec(request.upgrade)
    if (m === null) throw refuse(`--upgrade ${request.upgrade}`, 'expected NAME@HEIGHT, e.g. v2@5000')
    actions.push({
      target: GOV,
      value: 0n,
      data: encodeFunctionData({
        abi: governanceAbi,
        functionName: 'scheduleUpgrade',
        args: [m[1] as string, BigInt(m[2] as string)],
      }),
    })
  }
  for (const s of request.spend ?? []) {
    const m = /^(0x[0-9a-fA-F]{40}):(\d+(?:\.\d{1,18})?)$/.exec(s)
    if (m === null) throw refuse(`--spend ${s}`, 'expected ADDRESS:COINS, e.g. 0xabc…:100')
    actions.push({
      target: STAKING,
      value: 0n,
      data: encodeFunctionData({
        abi: stakingAbi,
        functionName: 'spendCommunityPool',
        args: [m[1] as Hex, parseEther(m[2] as string)],
      }),
    })
  }
  if (actions.length === 0) {
    throw refuse(
      'a proposal needs at least one action',
      'pass --param, --gas-limit, --min-base-fee, --block-time, --upgrade or --spend',
    )
  }
  return actions
}
