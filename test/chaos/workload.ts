// The testbed's workload: the devnet's funded dev accounts send signed transfers to each other and
// calls to a counter contract, each to a random node. One transaction per sender is in flight: it
// is signed once (one hash) and sent again, to other nodes, until a node acknowledges it (answers
// its hash, or "already known"); then the sender's next nonce. Every attempt and its answer is
// recorded (history.jsonl): a request, its acknowledgement (the hash, or the error), and later its
// outcome (the checker reads the chains). With staking, one more account (the staker) only
// delegates to and undelegates from random validators, so the active set's powers change at every
// epoch boundary while the nemesis runs (the checker compares the engine's set with the contract's).
import { appendFileSync } from 'node:fs'
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { type Abi, encodeFunctionData, type Hex, keccak256, serializeTransaction } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { rpc } from './cluster.ts'
import type { Prng } from './prng.ts'

export const MNEMONIC = 'test test test test test test test test test test test junk'
/** A counter: each call adds 1 to slot 0 (init code + runtime `PUSH1 1 PUSH1 0 SLOAD ADD PUSH1 0 SSTORE STOP`). */
export const COUNTER_INITCODE: Hex = '0x600a600c600039600a6000f360016000540160005500'
const GAS_PRICE = 10_000_000_000n // 10 gwei: well above the base fee the load can drive
const CHAIN_ID = 1337

export interface TxRecord {
  id: number
  sender: string
  nonce: number
  kind: 'transfer' | 'call' | 'deploy' | 'delegate' | 'undelegate'
  to: string | null
  value: string
  hash: Hex
  raw: Hex
  sentAt: number
  attempts: { node: string; at: number; ok: boolean; error?: string }[]
  ackAt?: number
  ackNode?: string
  /** Re-sent by the client after the run (not mined when the network healed). */
  rebroadcast?: boolean
}

export interface WorkloadOptions {
  nodes: { name: string; url: string }[]
  prng: Prng
  historyFile: string
  senders: number
  /** Mean pause between a sender's acknowledged transaction and its next (ms). */
  intervalMs: number
  /** Staking calls from one more account (the staker: the account after the senders) to these validators. */
  staking?: { operators: string[] }
}

/** The staker's delegations are 50 to 300 coins (each validator holds 1,000 at genesis): powers move by 5–30 %. */
const COIN = 10n ** 18n
/**
 * What the staker may delegate in one run: its genesis balance (10,000 coins) less a margin for gas.
 * Undelegated coins only come back after unbonding, so without a budget the staker overspends
 * after ~50 delegations and its later ones are refused for funds (a node behind the chain may
 * still acknowledge one against its older state: never mined, counted lost).
 */
const STAKE_BUDGET = 9_900n * COIN

export const accounts = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }))

export function contractAddress(): string {
  // CREATE by account 0 at nonce 0: keccak256(rlp([sender, 0]))[12:]
  const sender = accounts[0]?.address.slice(2).toLowerCase() ?? ''
  const rlp = `0xd694${sender}80` as Hex
  return `0x${keccak256(rlp).slice(26)}`
}

export class Workload {
  readonly txs: TxRecord[] = []
  #stopped = false
  #loops: Promise<void>[] = []
  readonly #o: WorkloadOptions

  constructor(opts: WorkloadOptions) {
    this.#o = opts
  }

  get acknowledged(): TxRecord[] {
    return this.txs.filter((t) => t.ackAt !== undefined)
  }

  /** The staker's account index (the one after the senders), or undefined without staking. */
  get staker(): number | undefined {
    return this.#o.staking && this.#o.senders < accounts.length ? this.#o.senders : undefined
  }

  start(): void {
    for (let s = 0; s < Math.min(this.#o.senders, accounts.length); s++) this.#loops.push(this.#sender(s))
    const staker = this.staker
    if (staker !== undefined) this.#loops.push(this.#sender(staker))
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
  }

  async #sign(sender: number, nonce: number, kind: TxRecord['kind'], to: string | null, value: bigint, data?: Hex) {
    const account = accounts[sender]
    if (!account) throw new Error('no account')
    const tx = {
      type: 'eip1559' as const,
      chainId: CHAIN_ID,
      nonce,
      to: (to ?? undefined) as Hex | undefined,
      value,
      gas: kind === 'transfer' ? 21_000n : kind === 'delegate' || kind === 'undelegate' ? 500_000n : 100_000n,
      maxFeePerGas: GAS_PRICE,
      maxPriorityFeePerGas: 1_000_000_000n,
      ...(data ? { data } : {}),
    }
    const raw = await account.signTransaction(tx, { serializer: serializeTransaction })
    return { raw, hash: keccak256(raw) }
  }

  async #sender(s: number): Promise<void> {
    const { prng } = this.#o
    // Transfers go to the senders only: the staker's balance is the staking contract's business.
    const recipients = Math.min(this.#o.senders, accounts.length)
    const delegated = new Map<string, bigint>()
    let budget = STAKE_BUDGET
    let nonce = 0
    while (!this.#stopped) {
      let kind: TxRecord['kind'] = 'transfer'
      let to: string | null = accounts[(s + 1 + prng.int(Math.max(1, recipients - 1))) % recipients]?.address ?? null
      let value = BigInt(1 + prng.int(1000)) * 10n ** 12n
      let data: Hex | undefined
      if (s === this.staker) {
        const operators = this.#o.staking?.operators ?? []
        const operator = operators[prng.int(operators.length)] as string
        const held = delegated.get(operator) ?? 0n
        to = STAKING_ADDRESS
        const want = BigInt(50 + prng.int(251)) * COIN
        if (held > 0n && (prng.next() < 0.4 || want > budget)) {
          kind = 'undelegate'
          value = 0n
          const amount = held / 2n
          data = encodeFunctionData({ abi: staking.abi as Abi, functionName: 'undelegate', args: [operator, amount] })
          delegated.set(operator, held - amount)
        } else if (want <= budget) {
          kind = 'delegate'
          value = want
          budget -= want
          data = encodeFunctionData({ abi: staking.abi as Abi, functionName: 'delegate', args: [operator] })
          delegated.set(operator, held + value)
        } else {
          // spent, and nothing held with this validator: a transfer to itself keeps its nonce moving
          to = accounts[s]?.address ?? null
          value = 1n
        }
      } else if (s === 0 && nonce === 0) {
        kind = 'deploy'
        to = null
        value = 0n
        data = COUNTER_INITCODE
      } else if (prng.next() < 0.2) {
        kind = 'call'
        to = contractAddress()
        value = 0n
      }
      const { raw, hash } = await this.#sign(s, nonce, kind, to, value, data)
      const rec: TxRecord = {
        id: this.txs.length,
        sender: accounts[s]?.address.toLowerCase() ?? '',
        nonce,
        kind,
        to: to?.toLowerCase() ?? null,
        value: value.toString(),
        hash,
        raw,
        sentAt: Date.now(),
        attempts: [],
      }
      this.txs.push(rec)
      // Until acknowledged (or the run ends): this transaction, to a random node each time.
      while (rec.ackAt === undefined && !this.#stopped) {
        const node = this.#o.nodes[prng.int(this.#o.nodes.length)]
        if (!node) break
        const at = Date.now()
        try {
          const got = await rpc<string>(node.url, 'eth_sendRawTransaction', [raw], 4_000)
          rec.attempts.push({ node: node.name, at, ok: true })
          if (got.toLowerCase() !== hash) throw new Error(`node answered hash ${got}, expected ${hash}`)
          rec.ackAt = Date.now()
          rec.ackNode = node.name
        } catch (err) {
          const msg = (err as Error).message
          rec.attempts.push({ node: node.name, at, ok: false, error: msg.slice(0, 200) })
          if (
            (err as { rpcError?: boolean }).rpcError &&
            /already known|known transaction|already imported|nonce too low/i.test(msg)
          ) {
            rec.ackAt = Date.now()
            rec.ackNode = node.name
          } else {
            await sleep(300 + prng.int(400))
          }
        }
      }
      appendFileSync(this.#o.historyFile, `${JSON.stringify({ ...rec, raw: undefined })}\n`)
      if (rec.ackAt === undefined) break
      nonce++
      await sleep(this.#o.intervalMs / 2 + prng.int(this.#o.intervalMs))
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
