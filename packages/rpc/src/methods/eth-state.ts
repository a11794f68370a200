import { accountProof } from '@cairn/chain'
import { bytesToHex, CairnError, type Hex, hexToBytes, toQuantity } from '@cairn/utils'
import { type Account, Address, setLengthLeft } from '@ethereumjs/util'
import { z } from 'zod'
import { stateKey } from '../call-vms.ts'
import { invalidParams, RpcErrorCode } from '../errors.ts'
import { callGas, estimateGas, gasUsedOf, throwIfCallFailed, withCall } from '../exec.ts'
import { callResults, outcomeOf } from '../fast/call-cache.ts'
import { quickAccountParams, quickCallParams } from '../fast/quick-params.ts'
import { viewCall } from '../fast/view-calls.ts'
import { type MethodDef, method } from '../method.ts'
import { headNamed, resolveBlock } from '../resolve.ts'
import {
  address,
  type BlockRef,
  blockOverride,
  blockRef,
  blockRefOrHash,
  callRequest,
  looseUint256,
  stateOverride,
} from '../schemas.ts'

/** A storage key of eth_getProof: up to 32 bytes of hex (geth pads it on the left). */
const storageKey = z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'expected a storage key of at most 32 bytes')

/** Most slots one eth_getStorageValues may read (geth's maxGetStorageSlots). */
const MAX_STORAGE_VALUES = 1024

/**
 * How eth_getProof echoes a storage key, as geth: a key given as 32 bytes as given (lower case),
 * any shorter one as a quantity (`0x00` → `0x0`), which the spec asks for.
 */
function proofKey(key: string): string {
  const digits = key.length - 2
  return Math.ceil(digits / 2) === 32 ? key.toLowerCase() : toQuantity(BigInt(key))
}

/** Account state at a block: balance, nonce, code, storage; calls and gas estimation. */

async function stateAt(ctx: Parameters<MethodDef['handler']>[1], ref: z.infer<typeof blockRef> | undefined) {
  const block = await resolveBlock(ctx, ref)
  return { block, state: ctx.chain.stateAfter(block.header) }
}

/**
 * `pick` of the account at `addr` after block `ref` (`undefined`: none there). Now, without a
 * promise, when the block is the head and the account is at hand (`StateReader.accountNow`: read at
 * this root before, in the shared view's cache, or from the stored trie read synchronously): the
 * server then writes the answer in the same turn (see the dispatcher's `handle`). Else through the
 * block's state, awaited.
 */
function fromAccount<T>(
  ctx: Parameters<MethodDef['handler']>[1],
  addr: Hex,
  ref: BlockRef | undefined,
  pick: (account: Readonly<Account> | undefined) => T,
): T | Promise<T> {
  const head = headNamed(ctx, ref)
  const now = head && ctx.chain.accountNow(head.header, addr)
  if (now !== undefined) return pick(now ?? undefined)
  return stateAt(ctx, ref)
    .then(({ state }) => state.getAccount(new Address(hexToBytes(addr))))
    .then(pick)
}

/** eth_call (declared apart: anvil_dealERC20 asks it). */
export const ethCall = method({
  name: 'eth_call',
  weight: 5,
  readThread: 'forward',
  params: z.tuple([callRequest, blockRef.optional(), stateOverride.optional(), blockOverride.optional()]),
  quickParams: quickCallParams,
  async handler([req, ref, state, blockOv], ctx, call) {
    const block = await resolveBlock(ctx, ref)
    // `pending`: in the block the engine would seal next, on the head's state.
    const next = ref === 'pending'
    const overrides = {
      ...(state ? { state } : {}),
      ...(blockOv ? { block: blockOv } : {}),
      next,
      ...(call.gasBudget ? { gasBudget: call.gasBudget } : {}),
    }
    const gas = callGas(ctx, req)
    const cache = callResults(ctx)
    // With overrides, or in the next block (whose header moves with the clock), the outcome is
    // not the block's: executed in the EVM, never remembered. A chain in reference mode takes no
    // shortcut: neither the cache nor the view interpreter.
    const ofBlock = !(state || blockOv || next)
    const shortcut = ofBlock && !ctx.chain.reference
    const key = shortcut ? cache.keyOf(stateKey(ctx, block), req, gas) : undefined
    const outcome = await cache.outcome(key, async () => {
      const viewed = shortcut ? await viewCall(ctx, req, block, gas, call.gasBudget) : undefined
      return viewed ?? outcomeOf(await withCall(ctx, req, block, overrides, (c) => c.run(gas)))
    })
    throwIfCallFailed(outcome)
    return outcome.output
  },
})

export const ethStateMethods: MethodDef[] = [
  method({
    name: 'eth_getBalance',
    readThread: 'answer',
    params: z.tuple([address, blockRefOrHash.optional()]),
    quickParams: quickAccountParams,
    handler: ([addr, ref], ctx) => fromAccount(ctx, addr, ref, (acc) => toQuantity(acc?.balance ?? 0n)),
  }),
  method({
    name: 'eth_getTransactionCount',
    readThread: 'answer',
    params: z.tuple([address, blockRefOrHash.optional()]),
    quickParams: quickAccountParams,
    handler([addr, ref], ctx) {
      if (ref === 'pending') return ctx.pool.pendingNonce(new Address(hexToBytes(addr))).then(toQuantity)
      return fromAccount(ctx, addr, ref, (acc) => toQuantity(acc?.nonce ?? 0n))
    },
  }),
  method({
    name: 'eth_getCode',
    readThread: 'answer',
    params: z.tuple([address, blockRefOrHash.optional()]),
    quickParams: quickAccountParams,
    async handler([addr, ref], ctx) {
      const { state } = await stateAt(ctx, ref)
      return bytesToHex(await state.getCode(new Address(hexToBytes(addr))))
    },
  }),
  method({
    // Anvil's (and reth's): an account's balance, nonce and code in one call.
    name: 'eth_getAccountInfo',
    readThread: 'answer',
    params: z.tuple([address, blockRefOrHash.optional()]),
    async handler([addr, ref], ctx) {
      const { state } = await stateAt(ctx, ref)
      const a = new Address(hexToBytes(addr))
      const acc = await state.getAccount(a)
      return {
        balance: toQuantity(acc?.balance ?? 0n),
        nonce: toQuantity(acc?.nonce ?? 0n),
        code: bytesToHex(acc ? await state.getCode(a) : new Uint8Array()),
      }
    },
  }),
  method({
    name: 'eth_getStorageAt',
    readThread: 'answer',
    params: z.tuple([address, looseUint256, blockRefOrHash.optional()]),
    handler([addr, slot, ref], ctx) {
      const key = setLengthLeft(hexToBytes(`0x${slot.toString(16)}`), 32)
      const head = headNamed(ctx, ref)
      const now = head && ctx.chain.storageNow(head.header, addr, key)
      if (now !== undefined) return bytesToHex(setLengthLeft(now, 32))
      return (async () => {
        const { state } = await stateAt(ctx, ref)
        const a = new Address(hexToBytes(addr))
        const acc = await state.getAccount(a)
        const value = acc ? await state.getStorage(a, key) : new Uint8Array()
        return bytesToHex(setLengthLeft(value, 32))
      })()
    },
  }),
  ethCall,
  method({
    name: 'eth_estimateGas',
    weight: 5,
    params: z.tuple([callRequest, blockRef.optional(), stateOverride.optional()]),
    async handler([req, ref, state], ctx, call) {
      // On the state of `ref` (latest by default, as geth), in the block after it: the one the
      // transaction will be in (its timestamp, number, base fee, coinbase).
      const block = await resolveBlock(ctx, ref)
      const budget = call.gasBudget ? { gasBudget: call.gasBudget } : {}
      return toQuantity(await estimateGas(ctx, req, block, { ...(state ? { state } : {}), ...budget }))
    },
  }),
  method({
    name: 'eth_createAccessList',
    weight: 5,
    params: z.tuple([callRequest, blockRef.optional()]),
    async handler([req, ref], ctx, info) {
      // As geth, `pending` by default: the list and gas of the transaction sent now.
      const block = await resolveBlock(ctx, ref ?? 'pending')
      const next = ref === undefined || ref === 'pending'
      // As geth: run with the list found so far until it stops changing (warm slots change gas).
      let list = req.accessList ?? []
      for (let i = 0; i < 8; i++) {
        const { res, found, gasUsed } = await withCall(
          ctx,
          { ...req, accessList: list },
          block,
          { reportAccessList: true, next, ...(info.gasBudget ? { gasBudget: info.gasBudget } : {}) },
          async (call) => {
            const res = await call.run(callGas(ctx, req))
            return { res, found: call.accessList(), gasUsed: gasUsedOf(call, res).used }
          },
        )
        if (JSON.stringify(found) === JSON.stringify(list) || i === 7) {
          const out: Record<string, unknown> = { accessList: found, gasUsed: toQuantity(gasUsed) }
          const err = res.execResult.exceptionError
          if (err) out.error = err.error === 'revert' ? 'execution reverted' : err.error
          return out
        }
        list = found
      }
      return null
    },
  }),
  method({
    name: 'eth_getStorageValues',
    readThread: 'forward',
    params: z.tuple([z.record(address, z.array(storageKey)), blockRefOrHash.optional()]),
    async handler([requests, ref], ctx) {
      // As geth: at most 1,024 slots in all (-38026), and at least one (-32602).
      let total = 0
      for (const keys of Object.values(requests)) total += keys.length
      if (total > MAX_STORAGE_VALUES) {
        throw new CairnError(RpcErrorCode.CLIENT_LIMIT, `too many slots (max ${MAX_STORAGE_VALUES})`, {
          fault: 'caller',
        })
      }
      if (total === 0) throw invalidParams('empty request')
      const { state } = await stateAt(ctx, ref)
      const out: Record<string, string[]> = {}
      for (const [addr, keys] of Object.entries(requests)) {
        const a = new Address(hexToBytes(addr))
        const exists = (await state.getAccount(a)) !== undefined
        const values: string[] = []
        for (const k of keys) {
          const value = exists ? await state.getStorage(a, setLengthLeft(hexToBytes(k), 32)) : new Uint8Array()
          values.push(bytesToHex(setLengthLeft(value, 32)))
        }
        out[addr] = values
      }
      return out
    },
  }),
  method({
    name: 'eth_getProof',
    weight: 5,
    readThread: 'forward',
    params: z.tuple([address, z.array(storageKey).max(1024), blockRefOrHash.optional()]),
    async handler([addr, keys, ref], ctx) {
      const { state } = await stateAt(ctx, ref)
      const proof = await accountProof(
        state,
        hexToBytes(addr),
        keys.map((k) => setLengthLeft(hexToBytes(k), 32)),
      )
      return {
        ...proof,
        address: addr,
        storageProof: proof.storageProof.map((p, i) => ({
          ...p,
          key: proofKey(keys[i] as string),
          value: toQuantity(p.value === '0x' ? 0n : BigInt(p.value)),
        })),
      }
    },
  }),
]
