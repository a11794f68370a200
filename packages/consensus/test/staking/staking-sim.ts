/**
 * The seeded staking simulation: the in-process BFT network (real chains, real EVM, the real
 * Staking contract) under a seed's weather (delay, loss) and events — a validator silenced long
 * enough to be jailed, double-sign evidence against a validator, a newcomer staking with
 * createValidator, a crash and restart — with at most one faulty validator (< 1/3 of the power).
 * After the run and a healed tail, every node is checked (the staking invariants are
 * src/staking/invariants.ts's, which the chaos checker and the contract tests assert too):
 * - agreement: the same block at every height on every node;
 * - the set the engine uses at H+2 is the contract's `activeSet()` after H, addresses and powers;
 * - no commit counts a signature of a validator outside the contract's set of two heights before
 *   (so no jailed validator's signature once it left);
 * - the contract holds exactly what it accounts for (bonded + unbonding + rewards + commissions +
 *   pool), and evidence slashed at most once (burned ≤ one slash);
 * - liveness: after healing every node commits new heights.
 * Replay: STAKING_SEED=N npx vitest run packages/consensus/test/staking/staking-sim.test.ts
 * Many: npm run test:staking-sim -- --seeds 100 [--from 0]
 */
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Address } from '@ethereumjs/util'
import { type Abi, encodeFunctionData, type Hex } from 'viem'
import { ADDRS, KEYS, transfer } from '../../../chain/test/helpers.ts'
import {
  decodeBftExtra,
  duplicateVoteEvidence,
  MsgType,
  setFollowsContract,
  signDigest,
  voteDigest,
} from '../../src/index.ts'
import { Prng } from '../bft/sim/prng.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { contractSetKey, engineSetKey, stakingConservation } from './read-staking.ts'

export type StakingEvent =
  | { kind: 'silence'; node: number; atHeight: number; ms: number }
  | { kind: 'evidence'; node: number; atHeight: number }
  | { kind: 'join'; atHeight: number }
  | { kind: 'restart'; node: number; atHeight: number }

export interface StakingScenario {
  seed: number
  validators: number
  delayMs: number
  loss: number
  events: StakingEvent[]
  heights: number
}

export function drawStakingScenario(seed: number): StakingScenario {
  const rng = new Prng(seed)
  const validators = rng.pick([4, 4, 5])
  const events: StakingEvent[] = []
  // One faulty validator at most (equal powers: 1 of 4 or 5 is < 1/3).
  const faulty = rng.int(0, validators - 1)
  const kinds = ['silence', 'evidence', 'join', 'restart'] as const
  const count = rng.int(1, 3)
  for (let k = 0; k < count; k++) {
    const kind = rng.pick([...kinds])
    const atHeight = rng.int(3, 14)
    if (kind === 'silence') events.push({ kind, node: faulty, atHeight, ms: rng.int(2_000, 14_000) })
    else if (kind === 'evidence') events.push({ kind, node: faulty, atHeight })
    else if (kind === 'join') events.push({ kind, atHeight })
    else events.push({ kind, node: faulty, atHeight })
  }
  events.sort((a, b) => a.atHeight - b.atHeight)
  return {
    seed,
    validators,
    delayMs: rng.pick([10, 20, 50, 100]),
    loss: rng.pick([0, 0, 0.02, 0.05]),
    events,
    heights: 24,
  }
}

export interface StakingRun {
  violations: string[]
  height: bigint
}

/** Runs one scenario and checks every invariant; the violations say what broke where. */
export async function runStakingScenario(s: StakingScenario): Promise<StakingRun> {
  const net = await BftNetwork.create({
    validators: s.validators + 1,
    genesisValidators: s.validators,
    delayMs: s.delayMs,
    loss: s.loss,
    seed: s.seed,
    staking: {
      params: [
        'staking.epochLength=4',
        'staking.signedBlocksWindow=8',
        'staking.minSignedPerWindowBps=5000',
        'staking.downtimeJailSeconds=2',
      ],
    },
  })
  const violations: string[] = []
  const spare = s.validators
  const honest = (i: number) => s.events.every((e) => !('node' in e) || e.node !== i)
  try {
    // The spare (keyed, outside the genesis set) runs too: it follows until it joins.
    await net.start()
    const lead = () => net.nodes.find((_n, i) => honest(i) && i !== spare) as BftNode
    for (const e of s.events) {
      const ok = await net.runUntil(() => lead().chain.head.header.number >= BigInt(e.atHeight), 120_000)
      if (!ok) {
        violations.push(`no progress to height ${e.atHeight} before ${e.kind}`)
        return { violations, height: lead().chain.head.header.number }
      }
      if (e.kind === 'silence') {
        net.silent.add(e.node)
        await net.run(e.ms)
        net.silent.delete(e.node)
      } else if (e.kind === 'evidence') {
        const key = validatorKey(e.node)
        const h = Math.max(1, e.atHeight - 1)
        const vote = (b: number) => {
          const v = { height: h, round: 0, type: MsgType.PREVOTE, blockHash: new Uint8Array(32).fill(b) }
          return { ...v, signature: signDigest(voteDigest(1337n, v), key) }
        }
        const addr = net.nodes[e.node]?.engine.address as Uint8Array
        const ev = duplicateVoteEvidence(addr, vote(1), vote(2))
        const at = Number(lead().chain.head.header.number)
        // Refused where the validator is not a member of that height's set (an earlier event removed
        // it): the pool checks evidence stands alone, as it must.
        for (const n of net.nodes) {
          try {
            n.engine.evidence.submit(ev, at)
          } catch (err) {
            if (!String((err as Error).message).includes('is not a validator')) throw err
          }
        }
      } else if (e.kind === 'join') {
        const n0 = lead()
        const data = Buffer.from(
          encodeFunctionData({
            abi: staking.abi as Abi,
            functionName: 'createValidator',
            args: [bytesToHex(net.nodes[spare]?.engine.address as Uint8Array), 1000, 2000, 100, 10n ** 18n, 'spare'],
          }).slice(2),
          'hex',
        )
        const sender = new Address(Buffer.from((ADDRS[1] as string).slice(2), 'hex'))
        const nonce = (await n0.chain.stateAfter(n0.chain.head.header).getAccount(sender))?.nonce ?? 0n
        const tx = transfer(n0.chain.common, KEYS[1] as Uint8Array, nonce, STAKING_ADDRESS as Hex, 5n * 10n ** 18n, {
          data,
          gasLimit: 2_000_000n,
        })
        for (const n of net.nodes) await n.pool.add(tx, { source: 'local' }).catch(() => undefined)
      } else {
        await net.restart(e.node)
      }
    }
    const goal = BigInt(s.heights)
    if (!(await net.runUntil(() => lead().chain.head.header.number >= goal, 240_000))) {
      violations.push(`no progress to height ${goal}`)
    }
    // Healed tail: every node commits new heights.
    net.silent.clear()
    const tail = lead().chain.head.header.number + 3n
    if (!(await net.runUntil(() => net.nodes.every((n) => n.chain.head.header.number >= tail), 240_000))) {
      violations.push(
        `liveness: not every node reached ${tail} after healing (${net.nodes.map((n) => n.chain.head.header.number).join(', ')})`,
      )
    }
    const top = net.nodes.map((n) => n.chain.head.header.number).reduce((a, b) => (a < b ? a : b))
    const ref = lead()
    for (let h = 1n; h <= top; h++) {
      const hashes = new Set<string>()
      for (const n of net.nodes) hashes.add(bytesToHex((await n.chain.getCanonicalHash(h)) as Uint8Array))
      if (hashes.size !== 1) violations.push(`agreement: ${hashes.size} blocks at height ${h}`)
    }
    // The set rule (src/staking/invariants.ts): each node's engine set at H+2 is the contract's after H.
    const contractKeys: string[] = []
    const contractSets: string[][] = []
    for (let h = 0n; h <= top; h++) {
      const block = (await ref.chain.getBlockByNumber(h)) as Block
      contractKeys.push(await contractSetKey(ref, block))
      contractSets.push((await contractSetKey(ref, block, { powers: false })).split(','))
    }
    for (const n of net.nodes) {
      const mismatches = setFollowsContract(
        3,
        Number(top),
        (h) => engineSetKey(n, h),
        (h) => contractKeys[h],
      )
      for (const m of mismatches) {
        violations.push(`node ${n.index}: the engine's set of ${m.height} is not the contract's after ${m.height - 2}`)
      }
    }
    for (let h = 3n; h <= top; h++) {
      const cert = decodeBftExtra(((await ref.chain.getBlockByNumber(h)) as Block).header.extraData).parentCertificate
      if (cert === null) continue
      const set = ref.engine.validatorsAt(cert.height)
      const allowed = contractSets[Math.max(0, cert.height - 2)] as string[]
      for (const sig of cert.signatures) {
        const who = bytesToHex(set.validators[sig.validatorIndex]?.address as Uint8Array).toLowerCase()
        if (cert.height > 2 && !allowed.includes(who))
          violations.push(`commit of ${cert.height} counts ${who}, not in the set`)
      }
    }
    const { accounting, balance, imbalance } = await stakingConservation(ref, ref.chain.head)
    const burned = accounting.burnedTotal
    if (imbalance !== 0n) violations.push(`conservation: balance ${balance} != accounted ${balance - imbalance}`)
    // Each validator holds 10 coins: one double-sign slash burns 0.5 and a downtime slash 0.1 (devnet 1%),
    // at most one double-sign slash per validator (tombstoned after it).
    const evidenceTargets = new Set(
      s.events.filter((e) => e.kind === 'evidence').map((e) => (e as { node: number }).node),
    )
    if (burned > BigInt(evidenceTargets.size) * 5n * 10n ** 17n + 10n ** 18n) {
      violations.push(`burned ${burned}: more than one double-sign slash per offender`)
    }
    return { violations, height: top }
  } finally {
    await net.stop()
  }
}

export function replayStakingCommand(seed: number): string {
  return `STAKING_SEED=${seed} npx vitest run packages/consensus/test/staking/staking-sim.test.ts`
}
