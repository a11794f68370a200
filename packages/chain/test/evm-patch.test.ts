// patches/@ethereumjs+evm+*.patch (applied by `npm install` through patch-package) hands
// runInterpreter the message fields it reads instead of a spread copy of the Message, and merges
// the result's `runState` only when it is read. These tests pin what must not change: every field
// a call frame depends on (address, caller, value, calldata, static context, depth through nested
// frames) reaches the nested frame, and `runState` is still there for whoever reads it.
import { createEVM, EVM } from '@ethereumjs/evm'
import { Account, Address, hexToBytes } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { createChainCommon } from '../src/rules/common.ts'

const addr = (byte: string) => new Address(hexToBytes(`0x${byte.repeat(20)}`))
const B = addr('bb')
const D = addr('dd')
const C = addr('cc')
const push20 = (a: Address) => `73${a.toString().slice(2)}`

/** Returns ADDRESS, CALLER, CALLVALUE and CALLDATALOAD(0) as four words. */
const echo = '30600052' + '33602052' + '34604052' + '600035606052' + '60806000f3'
/** Writes storage: fails in a static context. */
const writer = '6001600055' + '00'
/** Stores 0x42 as the calldata word, calls B with `op` (CALL with value 7, or DELEGATECALL), returns its output. */
const forward = (op: 'call' | 'delegatecall') =>
  '6042600052' +
  '6080600060206000' +
  (op === 'call' ? '6007' : '') +
  push20(B) +
  '5a' +
  (op === 'call' ? 'f1' : 'f4') +
  '50' +
  '60806000f3'
/** Calls D with `op` (CALL or STATICCALL, no value) and returns the success flag as one word. */
const flagOf = (op: 'call' | 'staticcall') =>
  '6000600060006000' +
  (op === 'call' ? '6000' : '') +
  push20(D) +
  '5a' +
  (op === 'call' ? 'f1' : 'fa') +
  '60005260206000f3'

async function setup() {
  const evm = await createEVM({ common: createChainCommon({ chainId: 1337n, hardfork: 'prague' }) })
  const contracts: [string, string][] = [
    ['bb', echo],
    ['dd', writer],
    ['a1', forward('call')],
    ['a2', forward('delegatecall')],
    ['a3', flagOf('staticcall')],
    ['a4', flagOf('call')],
  ]
  for (const [byte, code] of contracts) {
    await evm.stateManager.putAccount(addr(byte), new Account(0n, 1000n))
    await evm.stateManager.putCode(addr(byte), hexToBytes(`0x${code}`))
  }
  await evm.stateManager.putAccount(C, new Account(0n, 10n ** 18n))
  return evm
}

const words = (out: Uint8Array) =>
  Array.from({ length: out.length / 32 }, (_, i) =>
    BigInt(`0x${Buffer.from(out.subarray(i * 32, i * 32 + 32)).toString('hex') || '0'}`),
  )
const asWord = (a: Address) => BigInt(a.toString())

describe('the @ethereumjs/evm patch', () => {
  it('is applied (npm install runs patch-package; run `npx patch-package` after installing without scripts)', () => {
    const proto = EVM.prototype as unknown as { _executeCall: () => unknown }
    expect(proto._executeCall.toString()).toContain('Cairn patch')
  })

  it('hands a nested CALL its own address, the calling contract as caller, the value and the calldata', async () => {
    const evm = await setup()
    const r = await evm.runCall({ caller: C, to: addr('a1'), gasLimit: 1_000_000n, value: 0n })
    expect(r.execResult.exceptionError).toBeUndefined()
    expect(words(r.execResult.returnValue)).toEqual([asWord(B), asWord(addr('a1')), 7n, 0x42n])
  })

  it('keeps the caller, value and address of the delegating frame in a DELEGATECALL', async () => {
    const evm = await setup()
    const r = await evm.runCall({ caller: C, to: addr('a2'), gasLimit: 1_000_000n, value: 5n })
    expect(words(r.execResult.returnValue)).toEqual([asWord(addr('a2')), asWord(C), 5n, 0x42n])
  })

  it('carries the static context into nested frames (a write under STATICCALL fails, under CALL succeeds)', async () => {
    const evm = await setup()
    const staticFlag = await evm.runCall({ caller: C, to: addr('a3'), gasLimit: 1_000_000n })
    const callFlag = await evm.runCall({ caller: C, to: addr('a4'), gasLimit: 1_000_000n })
    expect(words(staticFlag.execResult.returnValue)).toEqual([0n])
    expect(words(callFlag.execResult.returnValue)).toEqual([1n])
  })

  it('still reports the merged runState of a frame when it is read', async () => {
    const evm = await setup()
    const r = await evm.runCall({ caller: C, to: B, gasLimit: 100_000n, value: 3n, data: new Uint8Array(32) })
    const rs = r.execResult.runState as unknown as {
      programCounter: number
      address: Address
      caller: Address
      callValue: bigint
      returnValue: Uint8Array
    }
    expect(rs.address.equals(B)).toBe(true)
    expect(rs.caller.equals(C)).toBe(true)
    expect(rs.callValue).toBe(3n)
    expect(rs.programCounter).toBeGreaterThan(0)
    expect(rs.returnValue).toEqual(r.execResult.returnValue)
  })
})
