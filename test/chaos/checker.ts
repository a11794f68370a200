// The checker: what the run recorded (the workload's history, the finality polls, the byzantine
// validator's log) against every node's chain read back over JSON-RPC afterwards. Each rule that
// fails adds a violation, said in words a reader can act on.
import { setFollowsContract, validatorSetKey } from '@cairn/consensus/staking'
import { STAKING_ADDRESS, stakingAbi } from '@cairn/contracts'
import { decodeFunctionResult, encodeFunctionData, type Hex } from 'viem'
import { type Cluster, rpc, rpcBatch } from './cluster.ts'
import { accounts, contractAddress, type TxRecord } from './workload.ts'

export interface RpcBlock {
  number: string
  hash: string
  parentHash: string
  extraData: string
  transactions: (string | { hash: string; from: string; nonce: string; to: string | null })[]
}

export interface FinalitySample {
  node: string
  at: number
  number: number
  hash: string
}

/** Polls every running node's `finalized` block and evidence counter while the run goes on. */
export class Poller {
  readonly finality: FinalitySample[] = []
  readonly evidenceSeen = new Map<string, number>()
  #stop = false
  #loop: Promise<void> | undefined

  constructor(private readonly cluster: Cluster) {}

  start(): void {
    this.#loop = (async () => {
      let tick = 0
      while (!this.#stop) {
        await Promise.all(
          this.cluster.nodes.map(async (n) => {
            if (!this.cluster.running(n)) return
            try {
              const b = await rpc<RpcBlock | null>(n.url, 'eth_getBlockByNumber', ['finalized', false], 2_000)
              if (b) this.finality.push({ node: n.name, at: Date.now(), number: Number(b.number), hash: b.hash })
            } catch {}
            if (tick % 4 === 0) {
              try {
                const text = await (await fetch(`${n.url}/metrics`, { signal: AbortSignal.timeout(2_000) })).text()
                const v = [...text.matchAll(/^cairn_bft_evidence_total(?:\{[^}]*\})? (\S+)$/gm)].reduce(
                  (a, m) => a + Number(m[1]),
                  0,
                )
                this.evidenceSeen.set(n.name, Math.max(this.evidenceSeen.get(n.name) ?? 0, v))
              } catch {}
            }
          }),
        )
        tick++
        await new Promise((r) => setTimeout(r, 1_000))
      }
    })()
  }

  async stop(): Promise<void> {
    this.#stop = true
    await this.#loop
  }
}

async function pool<T, R>(xs: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++
        out[i] = await fn(xs[i] as T)
      }
    }),
  )
  return out
}

export async function retry<T>(fn: () => Promise<T>, tries = 5): Promise<T> {
  for (let k = 0; ; k++) {
    try {
      return await fn()
    } catch (err) {
      if (k >= tries) throw err
      await new Promise((r) => setTimeout(r, 300))
    }
  }
}

/** Blocks 1..top of a node, in batches of 50. */
export async function blocksOf(url: string, top: number, txs: boolean): Promise<RpcBlock[]> {
  const out: RpcBlock[] = []
  for (let h = 1; h <= top; h += 50) {
    const hs = [...Array(Math.min(50, top - h + 1)).keys()].map((k) => h + k)
    const got = await retry(async () => {
      const r = await rpcBatch<RpcBlock>(
        url,
        hs.map((x) => ['eth_getBlockByNumber', [`0x${x.toString(16)}`, txs]]),
      )
      if (r.some((b) => b === null)) throw new Error(`blocks ${h}..${h + hs.length - 1} not all answered by ${url}`)
      return r as RpcBlock[]
    })
    out.push(...got)
  }
  return out
}

export interface CheckInput {
  cluster: Cluster
  txs: TxRecord[]
  poller: Poller
  /** The byzantine validator's address and mode, if the run had one. */
  byzantine: { address: string; mode: string; conflicts: number } | null
  /** The staker's address (its coins move into the staking contract: not in the balance sum), if any. */
  staker?: string
}

export interface CheckResult {
  violations: string[]
  heights: Record<string, number>
  acknowledged: number
  mined: number
  lost: number
  unacknowledged: number
  evidenceOnChain: number
  /** Heights at which the engine's validator set (addresses and powers) differs from the height before. */
  setChanges: number
}

/** The BFT extra data's version byte (1: plain, 2: with evidence, 3: with validator changes). */
function extraVersion(extra: string): number {
  const b = Buffer.from(extra.slice(2), 'hex')
  const b0 = b[0] ?? 0
  const at = b0 <= 0xf7 ? 1 : 1 + (b0 - 0xf7)
  return b[at] ?? 0
}

export async function check(input: CheckInput): Promise<CheckResult> {
  const { cluster, txs, poller } = input
  const violations: string[] = []
  const heights: Record<string, number> = {}
  // Every node's chain, by height.
  const chains = new Map<string, Map<number, RpcBlock>>()
  for (const n of cluster.nodes) {
    const head = Number(await retry(() => rpc<string>(n.url, 'eth_blockNumber')))
    heights[n.name] = head
    const blocks = await blocksOf(n.url, head, false)
    chains.set(n.name, new Map(blocks.map((b) => [Number(b.number), b])))
  }
  // Agreement: one block per height over all nodes; each chain links to its parent.
  const byHeight = new Map<number, { hash: string; node: string }>()
  for (const [name, chain] of chains) {
    for (const [h, b] of chain) {
      const seen = byHeight.get(h)
      if (seen && seen.hash !== b.hash)
        violations.push(`agreement: height ${h} is ${seen.hash} on ${seen.node} but ${b.hash} on ${name}`)
      if (!seen) byHeight.set(h, { hash: b.hash, node: name })
      const parent = chain.get(h - 1)
      if (parent && parent.hash !== b.parentHash)
        violations.push(`chain: ${name} block ${h} does not link to its block ${h - 1}`)
    }
  }
  // Finality never reverted: per node, finalized numbers never go down; every finalized block seen is the chain's.
  const lastFinal = new Map<string, FinalitySample>()
  for (const s of poller.finality) {
    const prev = lastFinal.get(s.node)
    if (prev && s.number < prev.number) {
      violations.push(`finality: ${s.node}'s finalized block went from ${prev.number} back to ${s.number}`)
    }
    lastFinal.set(s.node, s)
    const canon = byHeight.get(s.number)
    if (canon && canon.hash !== s.hash) {
      violations.push(`finality: ${s.node} reported ${s.hash} final at ${s.number}; the chains hold ${canon.hash}`)
    }
  }
  // The longest chain (every other agrees with it where they overlap) for the transaction rules.
  const [longestName] = Object.entries(heights).sort((a, b) => b[1] - a[1])[0] ?? ['']
  const longest = cluster.nodes.find((n) => n.name === longestName) ?? cluster.nodes[0]
  if (!longest) throw new Error('no nodes')
  const top = heights[longest.name] ?? 0
  const full = await blocksOf(longest.url, top, true)
  const { acked, lost } = await checkLedger(longest.url, top, full, txs, input.staker, violations)
  // Evidence: what honest nodes saw reaches the chain; a double voter's equivocations are on it.
  const withEvidence = full.filter((b) => extraVersion(b.extraData) >= 2)
  const evidence = (
    await pool(withEvidence, 4, (b) =>
      retry(() => rpc<{ validator: string }[]>(longest.url, 'cairn_getEvidence', [b.hash])),
    )
  ).flat()
  const honestSaw = [...poller.evidenceSeen].filter(
    ([name, v]) => v > 0 && cluster.nodes.find((n) => n.name === name)?.byzantine === 'none',
  )
  if (honestSaw.length > 0 && evidence.length === 0) {
    violations.push(`evidence: ${honestSaw.map(([n, v]) => `${n} saw ${v}`).join(', ')}; none on chain`)
  }
  const byz = input.byzantine
  if (byz && byz.mode === 'double-vote' && byz.conflicts > 0) {
    if (!evidence.some((e) => e.validator.toLowerCase() === byz.address.toLowerCase())) {
      violations.push(
        `evidence: the double voter ${byz.address} sent ${byz.conflicts} conflicting votes; no evidence on chain`,
      )
    }
  }
  const setChanges = await checkValidatorSets(cluster, heights, longest.url, violations)
  return {
    violations,
    heights,
    setChanges,
    acknowledged: acked.length,
    mined: acked.length - lost,
    lost,
    unacknowledged: txs.length - acked.length,
    evidenceOnChain: evidence.length,
  }
}

interface RpcValidators {
  validators: { address: string; votingPower: string }[]
}

/**
 * The validator set every node's engine uses at H+2 is the staking contract's `activeSet()` after
 * H (addresses and powers), for every H each node has H+2 of (the set rule of
 * packages/consensus/src/staking/invariants.ts, which the staking simulator asserts too): what joins, leaves and power changes
 * under the nemesis did to the set, every node agrees with the contract. Returns how many heights
 * changed the set (the staking workload's effect, for the summary).
 */
async function checkValidatorSets(
  cluster: Cluster,
  heights: Record<string, number>,
  refUrl: string,
  violations: string[],
): Promise<number> {
  const top = Math.max(...Object.values(heights))
  const call = encodeFunctionData({ abi: stakingAbi, functionName: 'activeSet' })
  const contract: string[] = []
  for (let h = 0; h <= top; h += 50) {
    const hs = [...Array(Math.min(50, top - h + 1)).keys()].map((k) => h + k)
    const got = await retry(async () => {
      const r = await rpcBatch<Hex>(
        refUrl,
        hs.map((x) => ['eth_call', [{ to: STAKING_ADDRESS, data: call }, `0x${x.toString(16)}`]]),
      )
      if (r.some((x) => x === null)) throw new Error(`activeSet() at ${h}..${h + hs.length - 1} not all answered`)
      return r
    })
    for (const r of got) {
      const [addrs, powers] = decodeFunctionResult({ abi: stakingAbi, functionName: 'activeSet', data: r as Hex })
      contract.push(validatorSetKey(addrs.map((address, i) => ({ address, power: powers[i] as bigint }))))
    }
  }
  let changes = 0
  for (const n of cluster.nodes) {
    const last = heights[n.name] ?? 0
    const engineSets = new Map<number, string>()
    let previous: string | undefined
    for (let h = 3; h <= last; h += 50) {
      const hs = [...Array(Math.min(50, last - h + 1)).keys()].map((k) => h + k)
      const got = await retry(async () => {
        const r = await rpcBatch<RpcValidators>(
          n.url,
          hs.map((x) => ['cairn_getValidators', [`0x${x.toString(16)}`]]),
        )
        if (r.some((x) => x === null)) throw new Error(`${n.name}: cairn_getValidators at ${h}.. not all answered`)
        return r
      })
      for (const [i, r] of got.entries()) {
        const engine = validatorSetKey(
          (r as RpcValidators).validators.map((v) => ({ address: v.address, power: v.votingPower })),
        )
        if (n === cluster.nodes[0] && previous !== undefined && engine !== previous) changes++
        previous = engine
        engineSets.set(hs[i] as number, engine)
      }
    }
    const mismatches = setFollowsContract(
      3,
      last,
      (h) => engineSets.get(h),
      (h) => contract[h],
    )
    for (const m of mismatches.slice(0, 3)) {
      violations.push(
        `validator set: ${n.name}'s engine uses {${m.engine}} at ${m.height}; the contract's set after ${m.height - 2} is {${m.contract}}`,
      )
    }
  }
  return changes
}

/**
 * The transaction rules over one chain (`full`: its blocks 1..top with their transactions, read
 * from `url`): every acknowledged transaction mined exactly once, nonces gap-free per sender,
 * the test accounts' balances conserved (genesis sum = sum at `top` + the fees they paid), the
 * counter's slot 0 = its successful calls. Adds what fails to `violations`.
 */
export async function checkLedger(
  url: string,
  top: number,
  full: RpcBlock[],
  txs: TxRecord[],
  staker: string | undefined,
  violations: string[],
): Promise<{ acked: TxRecord[]; lost: number }> {
  const minedAt = new Map<string, number[]>()
  const bySender = new Map<string, number[]>()
  for (const b of full) {
    for (const t of b.transactions) {
      if (typeof t === 'string') continue
      const list = minedAt.get(t.hash) ?? []
      list.push(Number(b.number))
      minedAt.set(t.hash, list)
      const nonces = bySender.get(t.from.toLowerCase()) ?? []
      nonces.push(Number(t.nonce))
      bySender.set(t.from.toLowerCase(), nonces)
    }
  }
  // Every acknowledged transaction mined exactly once.
  const acked = txs.filter((t) => t.ackAt !== undefined)
  let lost = 0
  for (const t of acked) {
    const at = minedAt.get(t.hash) ?? []
    if (at.length === 0) {
      lost++
      violations.push(
        `lost: ${t.kind} ${t.hash} (${t.sender} nonce ${t.nonce}) acknowledged by ${t.ackNode} but never mined`,
      )
    } else if (at.length > 1) violations.push(`duplicate: ${t.hash} mined at ${at.join(', ')}`)
  }
  // Nonces gap-free per sender, in block order.
  for (const [sender, nonces] of bySender) {
    for (const [k, nonce] of nonces.entries()) {
      if (nonce !== k) {
        violations.push(`nonces: ${sender}'s transaction #${k} on chain has nonce ${nonce}`)
        break
      }
    }
  }
  // Balances conserved: the test accounts' sum at the top = at genesis − the fees they paid.
  const hexTop = `0x${top.toString(16)}`
  const sum = async (tag: string) => {
    let s = 0n
    for (const a of [...accounts.map((x) => x.address), contractAddress()]) {
      if (a.toLowerCase() === staker) continue
      s += BigInt(await retry(() => rpc<string>(url, 'eth_getBalance', [a, tag])))
    }
    return s
  }
  let fees = 0n
  let callsOk = 0
  let deployed = false
  const mine = new Set(accounts.map((a) => a.address.toLowerCase()).filter((a) => a !== staker))
  // in chain order: calls count once the counter's deployment succeeded (a call before it is a plain transfer of 0)
  const ourMined = full.flatMap((b) =>
    b.transactions.filter((t) => typeof t !== 'string' && mine.has(t.from.toLowerCase())),
  ) as { hash: string; to: string | null }[]
  const receipts = await pool(ourMined, 8, (t) =>
    retry(() =>
      rpc<{
        gasUsed: string
        effectiveGasPrice: string
        status: string
        to: string | null
        contractAddress: string | null
      }>(url, 'eth_getTransactionReceipt', [t.hash]),
    ),
  )
  for (const r of receipts) {
    fees += BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice)
    if (r.contractAddress?.toLowerCase() === contractAddress() && r.status === '0x1') deployed = true
    if (deployed && r.to?.toLowerCase() === contractAddress() && r.status === '0x1') callsOk++
  }
  const before = await sum('0x0')
  const after = await sum(hexTop)
  if (before !== after + fees) {
    violations.push(
      `balances: ${before} at genesis ≠ ${after} at ${top} + ${fees} fees (off by ${before - after - fees})`,
    )
  }
  // The counter contract counted every successful call.
  const counter = BigInt(await retry(() => rpc<string>(url, 'eth_getStorageAt', [contractAddress(), '0x0', hexTop])))
  if (counter !== BigInt(callsOk)) violations.push(`counter: slot 0 is ${counter}, ${callsOk} successful calls mined`)
  return { acked, lost }
}
