import { gunzipSync, gzipSync } from 'node:zlib'
import type { ChainReader, StateEdit, StateReader } from '@cairn/chain'
import { bytesToHex, CairnError, hexToBytes, toQuantity } from '@cairn/utils'
import { Address, setLengthLeft } from '@ethereumjs/util'
import { z } from 'zod'
import { RpcErrorCode } from './errors.ts'
import { formatHeader } from './format.ts'

/**
 * Anvil's state dump (anvil_dumpState / anvil_loadState, `--dump-state` / `--load-state`): the
 * gzipped JSON `{block, accounts: {address: {nonce, balance, code, storage}}, best_block_number}`.
 * Anvil also puts its blocks and transactions in; Cairn puts the head block's header only (Anvil
 * needs the block `best_block_number` names to load a dump), no transactions, and loads the
 * accounts only.
 */
export interface DumpedAccount {
  nonce: number
  balance: string
  code: string
  storage: Record<string, string>
}

export interface DumpedState {
  block: Record<string, unknown>
  accounts: Record<string, DumpedAccount>
  best_block_number: number
  blocks: unknown[]
  transactions: unknown[]
  historical_states: null
}

const WORD = /^0x[0-9a-fA-F]{1,64}$/
const dumpedAccount = z.object({
  nonce: z.union([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-fA-F]+$/)]).default(0),
  balance: z
    .string()
    .regex(/^0x[0-9a-fA-F]*$/, 'expected a hex balance')
    .default('0x0'),
  code: z
    .string()
    .regex(/^0x([0-9a-fA-F]{2})*$/, 'expected hex code')
    .default('0x'),
  storage: z.record(z.string().regex(WORD, 'expected a slot of at most 32 bytes'), z.string().regex(WORD)).default({}),
})
const quantity = z.union([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-fA-F]{1,16}$/)])
const dumpedState = z.object({
  accounts: z.record(z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected an address'), dumpedAccount),
  /** The head the dump was taken at (Anvil's and Cairn's dumps have both). */
  best_block_number: quantity.optional(),
  block: z.object({ number: quantity.optional(), timestamp: quantity.optional() }).optional(),
})

/** A dump's head: its number and timestamp, where it says (`best_block_number`, `block`). */
export function dumpedHead(dump: z.infer<typeof dumpedState>): { number?: bigint; timestamp?: bigint } {
  const n = dump.best_block_number ?? dump.block?.number
  const t = dump.block?.timestamp
  return {
    ...(n !== undefined ? { number: BigInt(n) } : {}),
    ...(t !== undefined ? { timestamp: BigInt(t) } : {}),
  }
}

/** The head's state as Anvil dumps it: every account the node wrote or the genesis allocated. */
export async function dumpState(ctx: { chain: ChainReader & StateReader }): Promise<DumpedState> {
  const head = ctx.chain.head.header
  const state = ctx.chain.stateAfter(head)
  // What the node wrote (the preimages read back from the store), with the genesis accounts added in.
  const known = (await ctx.chain.readPreimages()) ?? new Map<string, Set<string>>()
  for (const [addr, acc] of ctx.chain.genesis.alloc) {
    const slots = known.get(addr) ?? new Set<string>()
    for (const [k] of acc.storage) slots.add(bytesToHex(setLengthLeft(k, 32)))
    known.set(addr, slots)
  }
  const accounts: Record<string, DumpedAccount> = {}
  for (const addr of [...known.keys()].sort()) {
    const a = new Address(hexToBytes(addr as `0x${string}`))
    const account = await state.getAccount(a)
    if (!account) continue
    const storage: Record<string, string> = {}
    for (const slot of [...(known.get(addr) ?? [])].sort()) {
      const v = await state.getStorage(a, hexToBytes(slot as `0x${string}`))
      if (v.length > 0) storage[slot] = bytesToHex(setLengthLeft(v, 32))
    }
    accounts[addr] = {
      nonce: Number(account.nonce),
      balance: toQuantity(account.balance),
      code: bytesToHex(await state.getCode(a)),
      storage,
    }
  }
  return {
    block: {
      number: toQuantity(head.number),
      beneficiary: head.coinbase.toString(),
      timestamp: toQuantity(head.timestamp),
      gas_limit: Number(head.gasLimit),
      basefee: Number(head.baseFeePerGas ?? 0n),
      difficulty: toQuantity(head.difficulty),
      prevrandao: bytesToHex(head.mixHash),
      blob_excess_gas_and_price: { excess_blob_gas: Number(head.excessBlobGas ?? 0n), blob_gasprice: 1 },
    },
    accounts,
    best_block_number: Number(head.number),
    blocks: [{ header: anvilHeader(head), transactions: [], ommers: [], withdrawals: null }],
    transactions: [],
    historical_states: null,
  }
}

/** The header as Anvil stores it in a dump (the RPC header's fields, without `hash`). */
function anvilHeader(h: Parameters<typeof formatHeader>[0]): Record<string, unknown> {
  const { hash: _hash, ...fields } = formatHeader(h)
  return fields
}

/** anvil_dumpState's answer: the gzipped JSON, as 0x hex. */
export function encodeDump(dump: DumpedState): string {
  return bytesToHex(gzipSync(JSON.stringify(dump)))
}

/** A dump as Anvil's loadState takes it: gzipped or plain JSON bytes. */
export function decodeDump(bytes: Uint8Array): z.infer<typeof dumpedState> {
  let text: string
  try {
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8')
  } catch (err) {
    throw badDump(`not gzip: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw badDump('not JSON')
  }
  const parsed = dumpedState.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw badDump(`${issue?.path.join('.')}: ${issue?.message}`)
  }
  return parsed.data
}

/** The state edit that writes every account of a dump (its storage slots are set, others kept, as Anvil). */
export function loadEdit(dump: z.infer<typeof dumpedState>): StateEdit {
  return async (sm) => {
    for (const [addr, acc] of Object.entries(dump.accounts)) {
      const a = new Address(hexToBytes(addr as `0x${string}`))
      await sm.modifyAccountFields(a, {
        nonce: BigInt(acc.nonce),
        balance: BigInt(acc.balance === '0x' ? 0 : acc.balance),
      })
      if (acc.code !== '0x') await sm.putCode(a, hexToBytes(acc.code as `0x${string}`))
      for (const [k, v] of Object.entries(acc.storage)) {
        const key = setLengthLeft(hexToBytes(`0x${k.slice(2).padStart(64, '0')}`), 32)
        await sm.putStorage(a, key, hexToBytes(`0x${v.slice(2).padStart(64, '0')}`))
      }
    }
  }
}

function badDump(why: string): CairnError {
  return new CairnError(RpcErrorCode.INVALID_PARAMS, `invalid state dump: ${why}`, {
    fault: 'caller',
    hint: "anvil_loadState takes what anvil_dumpState answers (hex of gzipped JSON with 'accounts')",
  })
}
