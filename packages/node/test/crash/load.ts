// A mixed transaction load for the crash harness: value transfers, contract deployments and
// calls that write storage and emit a log, signed locally and sent raw, each sender waiting for
// its receipt before the next. Every receipt seen is recorded: after a kill, each must be in the chain.
import { type Hex, keccak256, toRlp } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { rpcRequest } from '../e2e/harness.ts'
import { DEV_ACCOUNTS } from '../e2e/helpers.ts'

/**
 * Runtime: counter = sload(0) + 1; sstore(0, counter); log1(counter, topic = caller).
 * Init code copies the 20 runtime bytes and returns them.
 */
const RUNTIME = '600054600101806000556000523360206000a100'
export const COUNTER_INIT_CODE: Hex = `0x6014600c60003960146000f3${RUNTIME}`

export interface SeenReceipt {
  hash: Hex
  blockNumber: bigint
  blockHash: Hex
  kind: 'transfer' | 'deploy' | 'call'
}

interface Receipt {
  blockNumber: Hex
  blockHash: Hex
  status: Hex
  contractAddress: Hex | null
  logs: unknown[]
}

/** What a load run did. */
export interface LoadState {
  seen: SeenReceipt[]
  /** Every hash eth_sendRawTransaction answered: each must survive a kill (mined or pooled). */
  acknowledged: Hex[]
  contracts: Hex[]
  sent: number
  errors: string[]
}

export function newLoadState(): LoadState {
  return { seen: [], acknowledged: [], contracts: [], sent: 0, errors: [] }
}

async function call<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await rpcRequest<T>(url, method, params, 5_000)
  if ('error' in res) throw new Error(`${method}: ${res.error.message}`)
  return res.result
}

function contractAddress(from: Hex, nonce: number): Hex {
  return `0x${keccak256(toRlp([from, nonce === 0 ? '0x' : (`0x${nonce.toString(16)}` as Hex)])).slice(26)}` as Hex
}

/** Runs `senders` concurrent senders against `url` until `stop()` returns true or the node dies. */
export async function runLoad(url: string, state: LoadState, stop: () => boolean, senders = 4): Promise<void> {
  await Promise.all(DEV_ACCOUNTS.slice(0, senders).map((a, i) => sender(url, a.privateKey, i, state, stop)))
}

async function sender(url: string, key: Hex, index: number, state: LoadState, stop: () => boolean): Promise<void> {
  const account = privateKeyToAccount(key)
  let nonce: number
  try {
    nonce = Number(await call<Hex>(url, 'eth_getTransactionCount', [account.address, 'pending']))
  } catch {
    return
  }
  let i = 0
  while (!stop()) {
    const r = (i++ * 7 + index * 3) % 10
    const kind: SeenReceipt['kind'] =
      r < 5 || state.contracts.length === 0 ? (r < 8 ? 'transfer' : 'deploy') : r < 8 ? 'call' : 'deploy'
    const to =
      kind === 'transfer'
        ? (`0x${(0x1000 + Math.floor(Math.random() * 0xffff)).toString(16).padStart(40, '0')}` as Hex)
        : kind === 'call'
          ? state.contracts[Math.floor(Math.random() * state.contracts.length)]
          : undefined
    const raw = await account.signTransaction({
      type: 'eip1559',
      chainId: 1337,
      nonce,
      ...(to ? { to } : {}),
      value: kind === 'transfer' ? 1000n + BigInt(Math.floor(Math.random() * 1e6)) : 0n,
      gas: kind === 'transfer' ? 21_000n : 200_000n,
      maxFeePerGas: 50_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      ...(kind === 'deploy' ? { data: COUNTER_INIT_CODE } : {}),
    })
    let hash: Hex
    try {
      hash = await call<Hex>(url, 'eth_sendRawTransaction', [raw])
      state.sent++
      state.acknowledged.push(hash)
    } catch (err) {
      const msg = (err as Error).message
      if (/nonce too low|already known/.test(msg)) {
        try {
          nonce = Number(await call<Hex>(url, 'eth_getTransactionCount', [account.address, 'pending']))
          continue
        } catch {
          return
        }
      }
      if (!/fetch failed|ECONNREFUSED|aborted|timeout/i.test(msg)) state.errors.push(msg)
      return
    }
    const deployed = kind === 'deploy' ? contractAddress(account.address, nonce) : undefined
    nonce++
    for (;;) {
      let receipt: Receipt | null
      try {
        receipt = await call<Receipt | null>(url, 'eth_getTransactionReceipt', [hash])
      } catch {
        return // the node is gone
      }
      if (receipt) {
        state.seen.push({ hash, blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash, kind })
        if (deployed && receipt.status === '0x1') state.contracts.push(deployed)
        break
      }
      if (stop()) return
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}
