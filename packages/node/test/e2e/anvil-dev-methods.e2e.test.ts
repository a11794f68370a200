// Differential test of the dev methods against Anvil: the same calls, in the same order, to a real
// Anvil 1.7.1 (the reference: ANVIL_BIN, or `npm install --no-save @foundry-rs/anvil@1.7.1`; the
// registry reachable here has only its linux-x64 build, so it cannot be a devDependency whose lock
// file `npm ci` accepts on every platform) and a real Cairn dev
// node; each step compares the answers (exactly where the two chains agree, by shape where a value
// is the chain's own: hashes, clocks) and what the chain shows afterwards.
//
//   npx vitest run packages/node/test/e2e/anvil-dev-methods.e2e.test.ts
import { existsSync } from 'node:fs'
import fc from 'fast-check'
import { encodeDeployData, encodeFunctionData, keccak256 } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileContracts, tokenAbi } from './contracts.ts'
import { anvilBinary, killAllNodes, type NodeHandle, rpcRequest, startNode } from './harness.ts'
import { devAccount } from './helpers.ts'

const haveAnvil = existsSync(anvilBinary())
if (!haveAnvil) {
  console.warn(
    `skipping the Anvil differential test: no Anvil binary at ${anvilBinary()} (set ANVIL_BIN, or npm install --no-save @foundry-rs/anvil@1.7.1)`,
  )
}

const toHex = (n: bigint) => `0x${n.toString(16)}`
const word = (n: number) => `0x${n.toString(16).padStart(64, '0')}`
const A0 = devAccount(0).address.toLowerCase()
const A9 = devAccount(9).address.toLowerCase()
const STRANGER = '0x1111111111111111111111111111111111111111'
const COINBASE = '0x2222222222222222222222222222222222222222'

type Answer = { result?: unknown; error?: { code: number; message: string } }
type Block = { number: string; timestamp: string; baseFeePerGas: string; gasLimit: string; miner: string }

let anvil: NodeHandle
let cairn: NodeHandle

/**
 * The receipt of a transaction the node was sent with automine on. Cairn seals before it answers
 * the send, so its receipt is there on the first read (asserted); Anvil mines on a task of its own
 * after answering, so under load its receipt can come a moment later (a repeat run read null once).
 */
async function minedReceipt(node: NodeHandle, hash: unknown): Promise<Answer> {
  const read = async () => (await rpcRequest(node.url, 'eth_getTransactionReceipt', [hash])) as Answer
  if (node.kind === 'cairn') {
    const r = await read()
    expect(r.result, 'cairn: the receipt on the first read after a send').not.toBeNull()
    return r
  }
  const until = Date.now() + 10_000
  for (;;) {
    const r = await read()
    if (r.result !== null || Date.now() > until) return r
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The same call to both nodes: [anvil's answer, cairn's]. */
async function both(method: string, params: unknown[] = []): Promise<[Answer, Answer]> {
  const [a, c] = await Promise.all([rpcRequest(anvil.url, method, params), rpcRequest(cairn.url, method, params)])
  return [a as Answer, c as Answer]
}

/** Calls both and expects the same result (no error). */
async function same(method: string, params: unknown[] = []): Promise<unknown> {
  const [a, c] = await both(method, params)
  expect(a.error, `anvil: ${method}`).toBeUndefined()
  expect(c.error, `cairn: ${method} ${JSON.stringify(c.error)}`).toBeUndefined()
  expect(c.result, method).toEqual(a.result)
  return c.result
}

/** The JSON type of every leaf, keys kept: what must agree when the values are each chain's own. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
  if (typeof v === 'string' && /^0x[0-9a-f]*$/i.test(v)) return 'hex'
  return v === null ? null : typeof v
}

/** Calls both and expects results of the same shape; returns both. */
async function alike(method: string, params: unknown[] = []): Promise<[unknown, unknown]> {
  const [a, c] = await both(method, params)
  expect(a.error, `anvil: ${method}`).toBeUndefined()
  expect(c.error, `cairn: ${method} ${JSON.stringify(c.error)}`).toBeUndefined()
  expect(shape(c.result), method).toEqual(shape(a.result))
  return [a.result, c.result]
}

async function latest(): Promise<[Block, Block]> {
  const [a, c] = await both('eth_getBlockByNumber', ['latest', false])
  return [a.result as Block, c.result as Block]
}

describe.skipIf(!haveAnvil)('dev methods, Anvil and Cairn side by side', () => {
  beforeAll(async () => {
    // solc first: compiling for seconds between two requests lets the nodes close idle keep-alive
    // sockets, which the next request may reuse ("other side closed").
    compileContracts()
    ;[anvil, cairn] = await Promise.all([startNode('anvil'), startNode('cairn', { args: ['--ephemeral'] })])
  })
  afterAll(async () => {
    await Promise.all([anvil?.stop(), cairn?.stop()])
    killAllNodes()
  })

  it('anvil_nodeInfo, anvil_metadata, hardhat_metadata: the same fields', async () => {
    const [a, c] = (await alike('anvil_nodeInfo')) as [Record<string, unknown>, Record<string, unknown>]
    expect(Object.keys(c)).toEqual(Object.keys(a))
    await alike('anvil_metadata')
    await alike('hardhat_metadata')
  })

  it('evm_setAutomine false: a send is answered but not sealed; dropping it empties the pool', async () => {
    await same('evm_setAutomine', [false])
    await same('anvil_getAutomine')
    const [a, c] = await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x1' }])
    expect(shape(c.result)).toBe('hex')
    await same('eth_getTransactionReceipt', [c.result])
    expect(await rpcRequest(anvil.url, 'eth_getTransactionReceipt', [a.result])).toMatchObject({ result: null })
    await same('txpool_status')
    const dropped = await Promise.all([
      rpcRequest(anvil.url, 'anvil_dropTransaction', [a.result]),
      rpcRequest(cairn.url, 'anvil_dropTransaction', [c.result]),
    ])
    expect(dropped.map((d) => ('result' in d ? d.result : d.error))).toEqual([a.result, c.result])
    await same('txpool_status')
    await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x2' }])
    await same('anvil_dropAllTransactions')
    await same('txpool_status')
    await same('anvil_dropTransaction', [`0x${'00'.repeat(31)}01`])
  })

  it('interval mining and automine switch each other off', async () => {
    await same('evm_setIntervalMining', [0])
    await same('anvil_getAutomine')
    await same('anvil_getIntervalMining')
    await same('evm_setIntervalMining', [3600])
    await same('anvil_getIntervalMining')
    await same('anvil_setAutomine', [true])
    await same('anvil_getAutomine')
    await same('anvil_getIntervalMining')
  })

  it('automine: the receipt is there on the first read after a send (Cairn; Anvil mines on a task of its own)', async () => {
    for (let i = 0; i < 5; i++) {
      const [a, c] = await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x3' }])
      const receipts = await Promise.all([minedReceipt(anvil, a.result), minedReceipt(cairn, c.result)])
      for (const r of receipts) expect(r).toMatchObject({ result: { status: '0x1' } })
    }
  })

  it('anvil_setBlockTimestampInterval spaces blocks; removing it answers whether one was set', async () => {
    await same('anvil_setBlockTimestampInterval', [5])
    await same('anvil_mine', [2])
    const [a, c] = await both('eth_getBlockByNumber', ['latest', false])
    for (const [node, b] of [
      [anvil, a],
      [cairn, c],
    ] as const) {
      const head = b.result as Block
      const parent = (
        (await rpcRequest(node.url, 'eth_getBlockByNumber', [
          `0x${(BigInt(head.number) - 1n).toString(16)}`,
          false,
        ])) as {
          result: Block
        }
      ).result
      expect(BigInt(head.timestamp) - BigInt(parent.timestamp), node.kind).toBe(5n)
    }
    await same('anvil_removeBlockTimestampInterval')
    await same('anvil_removeBlockTimestampInterval')
  })

  it('time: evm_setTime, anvil_setNextBlockTimestamp, increaseTime answer numbers', async () => {
    const target = 4_000_000_000
    await alike('evm_setTime', [target])
    await same('evm_mine')
    for (const b of await latest()) expect(Number(BigInt(b.timestamp)) - target).toBeLessThan(5)
    await same('anvil_setNextBlockTimestamp', [target + 1000])
    await same('evm_mine')
    const [a, c] = await latest()
    expect(c.timestamp).toBe(a.timestamp)
    await alike('anvil_increaseTime', [10])
    await alike('evm_increaseTime', ['0xa'])
  })

  it('the next block: base fee, gas limit, coinbase', async () => {
    await same('anvil_setNextBlockBaseFeePerGas', ['0x12345'])
    await same('evm_setBlockGasLimit', ['0x2000000'])
    await same('anvil_setCoinbase', [COINBASE])
    await same('evm_mine')
    const [a, c] = await latest()
    expect({ baseFee: c.baseFeePerGas, gasLimit: c.gasLimit, miner: c.miner }).toEqual({
      baseFee: a.baseFeePerGas,
      gasLimit: a.gasLimit,
      miner: a.miner,
    })
    expect(c.baseFeePerGas).toBe('0x12345')
  })

  it('balances and accounts: anvil_setBalance with a JSON number, anvil_addBalance, eth_getAccount', async () => {
    await same('anvil_setBalance', [A9, 1000])
    await same('anvil_addBalance', [A9, '0x100'])
    await same('eth_getBalance', [A9, 'latest'])
    await same('eth_getAccount', [A9, 'latest'])
    await same('eth_getAccount', [STRANGER.replace('11', '33'), 'latest'])
  })

  it('sending as anyone: anvil_autoImpersonateAccount and eth_sendUnsignedTransaction', async () => {
    const someone = '0x4444444444444444444444444444444444444444'
    await same('anvil_setBalance', [someone, '0xde0b6b3a7640000'])
    await same('anvil_autoImpersonateAccount', [true])
    const [a, c] = await both('eth_sendTransaction', [{ from: someone, to: STRANGER, value: '0x5' }])
    expect(shape(c.result)).toBe(shape(a.result))
    await same('anvil_autoImpersonateAccount', [false])
    const refused = await both('eth_sendTransaction', [{ from: someone, to: STRANGER, value: '0x5' }])
    expect(refused.map((r) => r.error !== undefined)).toEqual([true, true])
    const [ua, uc] = await both('eth_sendUnsignedTransaction', [{ from: someone, to: STRANGER, value: '0x6' }])
    expect(shape(uc.result)).toBe(shape(ua.result))
    await same('eth_getTransactionCount', [someone, 'latest'])
    // The raw form hashes to the transaction's hash (a real signed one: the dev account's).
    const [sa, sc] = await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x7' }])
    for (const [node, hash] of [
      [anvil, sa.result],
      [cairn, sc.result],
    ] as const) {
      const raw = (await rpcRequest(node.url, 'eth_getRawTransactionByHash', [hash])) as { result: `0x${string}` }
      expect(keccak256(raw.result), node.kind).toBe(hash)
    }
    await same('eth_getRawTransactionByHash', [`0x${'00'.repeat(31)}02`])
  })

  it("Anvil's other reads: names, uncles, transactions by sender and nonce, raw by block", async () => {
    await same('eth_networkId')
    await same('eth_requestAccounts')
    await same('eth_protocolVersion')
    await same('eth_getUncleCountByBlockNumber', ['latest'])
    await same('eth_getUncleByBlockNumberAndIndex', ['latest', '0x0'])
    await alike('eth_getTransactionBySenderAndNonce', [A0, '0x0'])
    await same('eth_getTransactionBySenderAndNonce', [A0, '0xffff'])
    await alike('eth_getRawTransactionByBlockNumberAndIndex', ['latest', '0x0'])
    await alike('anvil_getGenesisTime')
    await same('anvil_removePoolTransactions', [A0])
    await same('evm_setAccountNonce', [COINBASE, '0x5'])
    await same('eth_getTransactionCount', [COINBASE, 'latest'])
  })

  it('an impersonated account with code sends on both (no EIP-3607 for impersonated senders)', async () => {
    const contract = '0x5555555555555555555555555555555555555555'
    await same('anvil_setCode', [contract, '0x00'])
    await same('anvil_setBalance', [contract, '0xde0b6b3a7640000'])
    await same('anvil_impersonateAccount', [contract])
    const [a, c] = await both('eth_sendTransaction', [{ from: contract, to: STRANGER, value: '0x9' }])
    expect(a.error).toBeUndefined()
    expect(c.error, JSON.stringify(c.error)).toBeUndefined()
    const receipts = await Promise.all([minedReceipt(anvil, a.result), minedReceipt(cairn, c.result)])
    expect(receipts.map((r) => (r as { result: { status: string } }).result.status)).toEqual(['0x1', '0x1'])
    await same('eth_getBalance', [STRANGER, 'latest'])
    await same('eth_getCode', [contract, 'latest'])
    await same('anvil_stopImpersonatingAccount', [contract])
  })

  it('evm_mine_detailed answers the blocks it made', async () => {
    const [a, c] = (await both('evm_mine_detailed')) as [{ result: Block[] }, { result: Block[] }]
    expect(c.result.length).toBe(a.result.length)
    const [la, lc] = await latest()
    expect([a.result[0]?.number, c.result[0]?.number]).toEqual([la.number, lc.number])
  })

  it('snapshots, rollback and reset move the head alike', async () => {
    // Earlier steps may leave the heads at different numbers: compare how each call moves its node's head.
    const heads = async () => (await both('eth_blockNumber')).map((r) => BigInt(r.result as string))
    const moved = async (step: () => Promise<unknown>) => {
      const before = await heads()
      await step()
      const after = await heads()
      return after.map((h, i) => h - (before[i] as bigint))
    }
    await same('anvil_snapshot')
    expect(await moved(() => same('anvil_mine', [3]))).toEqual([3n, 3n])
    expect(await moved(() => same('anvil_revert', ['0x0']))).toEqual([-3n, -3n])
    expect(await moved(() => same('anvil_rollback', [1]))).toEqual([-1n, -1n])
    expect(await moved(() => same('evm_mine', [{ timestamp: 5_000_000_000, blocks: 2 }]))).toEqual([2n, 2n])
    await same('anvil_reset')
    expect(await same('eth_blockNumber')).toBe('0x0')
    await same('eth_getBalance', [A9, 'latest'])
  })

  it('state edits without a block: sequences of edits, reads, mines, sends, snapshots, reverts, rollbacks and reorgs answer alike', async () => {
    // Both from the genesis block (anvil_reset), so block numbers compare exactly. Per run: fresh
    // addresses; an impersonated sender funded with 10 ETH (its own balance is not compared: fees
    // are each chain's own) and a recipient; a reader contract returning SLOAD(0) + BALANCE(its
    // first account), reverting when that is 13.
    await same('anvil_reset')
    let run = 0
    const action = fc.oneof(
      fc.record({ kind: fc.constant('balance' as const), who: fc.nat({ max: 2 }), value: fc.nat({ max: 20 }) }),
      fc.record({ kind: fc.constant('addBalance' as const), who: fc.nat({ max: 2 }), value: fc.nat({ max: 20 }) }),
      fc.record({ kind: fc.constant('nonce' as const), who: fc.nat({ max: 3 }), value: fc.nat({ max: 20 }) }),
      fc.record({ kind: fc.constant('slot' as const), value: fc.nat({ max: 20 }) }),
      fc.record({ kind: fc.constant('code' as const), on: fc.boolean() }),
      fc.record({ kind: fc.constant('mine' as const) }),
      fc.record({ kind: fc.constant('send' as const) }),
      fc.record({ kind: fc.constant('snapshot' as const) }),
      fc.record({ kind: fc.constant('revert' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('rollback' as const) }),
      fc.record({ kind: fc.constant('reorg' as const), depth: fc.integer({ min: 1, max: 2 }) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 10 }), async (actions) => {
        const tag = (run++).toString(16).padStart(4, '0')
        const addr = (i: number) => `0x${'00'.repeat(16)}ed${tag}${i.toString(16).padStart(2, '0')}`
        const accounts = [addr(0), addr(1), addr(2)]
        const sender = addr(3)
        const recipient = addr(4)
        const reader = addr(5)
        // PUSH20 account 0, BALANCE, SLOAD(0), ADD; revert with 0xdead when 13, else return it.
        const readerCode = `0x73${addr(0).slice(2)}316000540180600052600d1460295760206000f35b61dead6000526002601efd`
        await same('anvil_impersonateAccount', [sender])
        await same('anvil_setBalance', [sender, '0x8ac7230489e80000'])
        await same('anvil_setCode', [reader, readerCode])
        const start = BigInt((await same('eth_blockNumber')) as string)
        const snapshots: [unknown, unknown][] = []
        const check = async (step: string) => {
          const number = (await same('eth_blockNumber')) as string
          const previous = toHex(BigInt(number) > start ? BigInt(number) - 1n : start)
          for (const at of ['latest', 'pending', number, previous]) {
            for (const a of [...accounts, recipient]) await same('eth_getBalance', [a, at])
            for (const a of [...accounts, sender]) await same('eth_getTransactionCount', [a, at])
            await same('eth_getCode', [reader, at])
            await same('eth_getStorageAt', [reader, '0x0', at])
          }
          for (const at of ['latest', 'pending']) {
            const [a, c] = await both('eth_call', [{ to: reader }, at])
            expect(c.result, `${step}: eth_call ${at}`).toEqual(a.result)
            expect(c.error === undefined, `${step}: eth_call ${at} ${JSON.stringify([a.error, c.error])}`).toBe(
              a.error === undefined,
            )
          }
          const [ea, ec] = await both('eth_estimateGas', [{ to: reader }])
          expect(ec.error === undefined, `${step}: eth_estimateGas`).toBe(ea.error === undefined)
        }
        for (const a of actions) {
          const step = JSON.stringify(a)
          if (a.kind === 'balance') await same('anvil_setBalance', [accounts[a.who], toHex(BigInt(a.value))])
          else if (a.kind === 'addBalance') await same('anvil_addBalance', [accounts[a.who], toHex(BigInt(a.value))])
          else if (a.kind === 'nonce') {
            await same('anvil_setNonce', [a.who === 3 ? sender : accounts[a.who], toHex(BigInt(a.value))])
          } else if (a.kind === 'slot') await same('anvil_setStorageAt', [reader, '0x0', word(a.value)])
          else if (a.kind === 'code') await same('anvil_setCode', [reader, a.on ? readerCode : '0x'])
          else if (a.kind === 'mine') await same('evm_mine')
          else if (a.kind === 'send') {
            const [sa, sc] = await both('eth_sendTransaction', [{ from: sender, to: recipient, value: '0x1' }])
            expect(sc.error === undefined, `${step}: ${JSON.stringify([sa.error, sc.error])}`).toBe(
              sa.error === undefined,
            )
            // Anvil mines after answering the hash: the head it reads next may not hold the send yet
            // (a CI run read its block number one behind Cairn's). Wait for its receipt, as a client would.
            if (sa.error === undefined) await minedReceipt(anvil, sa.result)
          } else if (a.kind === 'snapshot') {
            const [sa, sc] = await both('evm_snapshot')
            snapshots.push([sa.result, sc.result])
          } else if (a.kind === 'rollback') {
            if (BigInt((await same('eth_blockNumber')) as string) > start) await same('anvil_rollback', [1])
            // A snapshot of a block rolled back is not compared (Cairn refuses to revert to it).
            snapshots.length = 0
          } else if (a.kind === 'reorg') {
            if (BigInt((await same('eth_blockNumber')) as string) - start >= BigInt(a.depth)) {
              await same('anvil_reorg', [a.depth, []])
            }
            snapshots.length = 0
          } else if (snapshots.length > 0) {
            const i = a.which % snapshots.length
            const [ia, ic] = snapshots[i] as [unknown, unknown]
            const reverted = await Promise.all([
              rpcRequest(anvil.url, 'evm_revert', [ia]),
              rpcRequest(cairn.url, 'evm_revert', [ic]),
            ])
            expect(reverted.map((r) => (r as Answer).result)).toEqual([true, true])
            snapshots.splice(i)
          }
          await check(step)
        }
        await same('anvil_stopImpersonatingAccount', [sender])
      }),
      {
        numRuns: 12,
        // Counterexamples found in earlier runs, replayed every time: a reorg that sealed the same
        // block again kept the edit in Cairn's pending reads.
        examples: [
          [
            [
              { kind: 'send' },
              { kind: 'reorg', depth: 1 },
              { kind: 'nonce', who: 0, value: 1 },
              { kind: 'reorg', depth: 1 },
              { kind: 'code', on: false },
            ],
          ],
        ],
      },
    )
  }, 240_000)

  it('refusals: a negative or fractional number is an invalid parameter on both', async () => {
    for (const bad of [-1, 1.5]) {
      const [a, c] = await both('anvil_mine', [bad])
      expect(a.error?.code).toBe(-32602)
      expect(c.error?.code).toBe(-32602)
      expect(c.error?.message).toMatch(/expected a hex number .* or a non-negative integer/)
    }
  })

  it('anvil_dealERC20 / anvil_setERC20Allowance: the token answers the amount on both', async () => {
    const { Token } = compileContracts()
    const data = encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['T', 'T', 1000n] })
    const [da, dc] = await both('eth_sendTransaction', [{ from: A0, data }])
    const tokens = await Promise.all(
      [
        [anvil, da.result],
        [cairn, dc.result],
      ].map(async ([node, hash]) => {
        const r = (await minedReceipt(node as NodeHandle, hash)) as {
          result: { contractAddress: string }
        }
        return r.result.contractAddress
      }),
    )
    const read = async (fn: 'balanceOf' | 'allowance', args: readonly unknown[]) =>
      Promise.all(
        [anvil, cairn].map(async (node, i) => {
          const input = encodeFunctionData({ abi: tokenAbi, functionName: fn, args: args as never })
          const r = (await rpcRequest(node.url, 'eth_call', [{ to: tokens[i], data: input }, 'latest'])) as Answer
          return BigInt(r.result as string)
        }),
      )
    const amount = 123_456_789n
    for (const [i, node] of [anvil, cairn].entries()) {
      const r = (await rpcRequest(node.url, 'anvil_dealERC20', [STRANGER, tokens[i], toHex(amount)])) as Answer
      expect(r.error, node.kind).toBeUndefined()
      expect(r.result, node.kind).toBeNull()
      const a = (await rpcRequest(node.url, 'anvil_setERC20Allowance', [
        STRANGER,
        A9,
        tokens[i],
        toHex(amount + 1n),
      ])) as Answer
      expect(a.error, node.kind).toBeUndefined()
    }
    expect(await read('balanceOf', [STRANGER])).toEqual([amount, amount])
    expect(await read('allowance', [STRANGER, A9])).toEqual([amount + 1n, amount + 1n])
    // The deployer's balance is untouched (only the holder's slot was found and set).
    expect(await read('balanceOf', [A0])).toEqual([1000n, 1000n])
    // Not a token: both refuse.
    const refused = await both('anvil_dealERC20', [STRANGER, COINBASE, '0x1'])
    expect(refused.map((r) => r.error !== undefined)).toEqual([true, true])
  })

  it("Otterscan's ots_ basics and Parity's trace_transaction answer alike", async () => {
    const { Token } = compileContracts()
    const data = encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['O', 'O', 1000n] })
    const [da, dc] = await both('eth_sendTransaction', [{ from: A0, data }])
    const receipts = (await Promise.all([minedReceipt(anvil, da.result), minedReceipt(cairn, dc.result)])) as {
      result: { contractAddress: string; blockNumber: string }
    }[]
    const tokens = receipts.map((r) => r.result.contractAddress)
    await same('ots_getApiLevel')
    for (const [i, node] of [anvil, cairn].entries()) {
      const has = (await rpcRequest(node.url, 'ots_hasCode', [tokens[i], 'latest'])) as Answer
      expect(has.result, node.kind).toBe(true)
      const creator = (await rpcRequest(node.url, 'ots_getContractCreator', [tokens[i]])) as Answer
      expect(creator.result, node.kind).toEqual({ hash: [da, dc][i]?.result, creator: A0 })
    }
    await same('ots_hasCode', [STRANGER, 'latest'])
    // A transfer that reverts (more than the balance), sent with a fixed gas so it is mined.
    const transfer = encodeFunctionData({
      abi: tokenAbi,
      functionName: 'transfer',
      args: [A9 as `0x${string}`, 10_000n],
    })
    const failed = await Promise.all(
      [anvil, cairn].map(
        async (node, i) =>
          (
            (await rpcRequest(node.url, 'eth_sendTransaction', [
              { from: A0, to: tokens[i], data: transfer, gas: '0x30000' },
            ])) as Answer
          ).result as string,
      ),
    )
    const errors = await Promise.all(
      [anvil, cairn].map(
        async (node, i) => (await rpcRequest(node.url, 'ots_getTransactionError', [failed[i]])) as Answer,
      ),
    )
    expect(errors[1]?.result).toEqual(errors[0]?.result)
    expect(errors[1]?.result).not.toBe('0x')
    const ok = encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [A9 as `0x${string}`, 10n] })
    const sent = await Promise.all(
      [anvil, cairn].map(
        async (node, i) =>
          ((await rpcRequest(node.url, 'eth_sendTransaction', [{ from: A0, to: tokens[i], data: ok }])) as Answer)
            .result as string,
      ),
    )
    const [ta, tc] = (await Promise.all(
      [anvil, cairn].map(async (node, i) => (await rpcRequest(node.url, 'trace_transaction', [sent[i]])) as Answer),
    )) as { result: Record<string, unknown>[] }[]
    const pick = (t: Record<string, unknown>) => {
      const a = t.action as Record<string, unknown>
      return {
        type: t.type,
        traceAddress: t.traceAddress,
        subtraces: t.subtraces,
        from: a.from,
        input: a.input,
        value: a.value,
        callType: a.callType,
        output: (t.result as Record<string, unknown>)?.output,
      }
    }
    expect(tc?.result.map(pick)).toEqual(ta?.result.map(pick))
    const opsA = (await rpcRequest(anvil.url, 'ots_getInternalOperations', [sent[0]])) as Answer
    const opsC = (await rpcRequest(cairn.url, 'ots_getInternalOperations', [sent[1]])) as Answer
    expect(opsC.result).toEqual(opsA.result)
    const [ba, bc] = (await Promise.all(
      [anvil, cairn].map(async (node) => (await rpcRequest(node.url, 'ots_getBlockDetails', ['latest'])) as Answer),
    )) as { result: { block: Record<string, unknown>; issuance: unknown; totalFees: string } }[]
    expect(Object.keys(bc?.result ?? {}).sort()).toEqual(Object.keys(ba?.result ?? {}).sort())
    expect(bc?.result.block.transactionCount).toBe(ba?.result.block.transactionCount)
    expect(BigInt(bc?.result.totalFees ?? 0)).toBeGreaterThan(0n)
  })

  it('address history: ots_searchTransactionsBefore/After and trace_filter page alike', async () => {
    const X = '0x7777777777777777777777777777777777777777'
    // A forwarder: CALL(gas, X, callvalue, 0, 0, 0, 0), so X is touched only inside a trace.
    const runtime = `60006000600060003473${X.slice(2)}5af100`
    const init = `0x60${(runtime.length / 2).toString(16)}600c60003960${(runtime.length / 2).toString(16)}6000f3${runtime}`
    const nodes = [anvil, cairn] as const
    const deployed = await both('eth_sendTransaction', [{ from: A0, data: init }])
    const forwarders = await Promise.all(
      nodes.map(async (n, i) => {
        const r = await minedReceipt(n, deployed[i]?.result)
        return (r.result as { contractAddress: string }).contractAddress
      }),
    )
    const starts = (await latest()).map((b) => BigInt(b.number))
    await both('eth_sendTransaction', [{ from: A0, to: X, value: '0x1' }])
    await Promise.all(
      nodes.map((n, i) => rpcRequest(n.url, 'eth_sendTransaction', [{ from: A0, to: forwarders[i], value: '0x2' }])),
    )
    await same('evm_mine')
    await both('eth_sendTransaction', [{ from: A9, to: STRANGER, value: '0x3' }])
    await both('eth_sendTransaction', [{ from: A0, to: X, value: '0x4' }])
    // Each node with its own block numbers (Cairn's state edits seal blocks, Anvil's do not).
    const summary = (r: Answer) => {
      const p = r.result as {
        txs: { value: string; from: string }[]
        receipts: Record<string, unknown>[]
        firstPage: boolean
        lastPage: boolean
      }
      return {
        txs: p.txs.map((t) => [t.value, t.from]),
        firstPage: p.firstPage,
        lastPage: p.lastPage,
        receipts: p.receipts.length,
      }
    }
    const per = async (method: string, params: (i: number) => unknown[]) =>
      Promise.all(nodes.map(async (n, i) => (await rpcRequest(n.url, method, params(i))) as Answer))
    const pages = [
      ['ots_searchTransactionsBefore', () => [X, 0, 1]],
      ['ots_searchTransactionsBefore', () => [X, 0, 10]],
      ['ots_searchTransactionsBefore', (i: number) => [X, Number((starts[i] as bigint) + 3n), 1]],
      ['ots_searchTransactionsAfter', () => [X, 0, 2]],
      ['ots_searchTransactionsAfter', (i: number) => [X, Number(starts[i]), 1]],
      ['ots_searchTransactionsAfter', (i: number) => [X, Number((starts[i] as bigint) + 1n), 10]],
      ['ots_searchTransactionsAfter', () => [X, 1_000_000, 10]],
    ] as const
    for (const [method, params] of pages) {
      const [a, c] = await per(method, params)
      expect(c?.error, `${method} ${JSON.stringify(params(1))}`).toBeUndefined()
      expect(summary(c as Answer), `${method} ${JSON.stringify(params(1))}`).toEqual(summary(a as Answer))
    }
    // The entries themselves: the same fields (the receipts carry the block's timestamp; Anvil's
    // blobGasPrice on receipts of non-blob transactions aside, which geth and Cairn leave out).
    const keys = (r: Record<string, unknown> | undefined) =>
      Object.keys(r ?? {})
        .filter((k) => k !== 'blobGasPrice')
        .sort()
    const [fa, fc] = await per('ots_searchTransactionsBefore', () => [X, 0, 10])
    const full = (r: Answer) => r.result as { txs: Record<string, unknown>[]; receipts: Record<string, unknown>[] }
    expect(keys(full(fc as Answer).receipts[0])).toEqual(keys(full(fa as Answer).receipts[0]))
    expect(keys(full(fc as Answer).txs[0])).toEqual(keys(full(fa as Answer).txs[0]))
    expect(full(fc as Answer).receipts.map((r) => r.timestamp)).toEqual(
      await Promise.all(
        full(fc as Answer).receipts.map(async (r) => {
          const b = (await rpcRequest(cairn.url, 'eth_getBlockByHash', [r.blockHash, false])) as Answer
          return (b.result as { timestamp: string }).timestamp
        }),
      ),
    )
    // trace_filter: the same traces (each chain's own hashes, numbers and gas aside).
    const trace = (r: Answer) =>
      (r.result as { type: string; action: Record<string, string>; traceAddress: number[] }[]).map((t) => [
        t.type,
        t.action.from,
        t.action.to,
        t.action.value,
        t.traceAddress,
      ])
    const range = (i: number) => ({
      fromBlock: toHex((starts[i] as bigint) + 1n),
      toBlock: toHex((starts[i] as bigint) + 5n),
    })
    for (const filter of [
      (i: number) => ({ ...range(i), toAddress: [X] }),
      (i: number) => ({ ...range(i), fromAddress: [A0] }),
      (i: number) => ({ ...range(i), fromAddress: [A0], toAddress: [X] }),
      (i: number) => ({ ...range(i), fromAddress: [A0], after: 1, count: 1 }),
      (i: number) => range(i),
    ]) {
      const [a, c] = await per('trace_filter', (i) => [filter(i)])
      expect(c?.error, JSON.stringify(filter(1))).toBeUndefined()
      expect(trace(c as Answer), JSON.stringify(filter(1))).toEqual(trace(a as Answer))
    }
    const [ea, ec] = await per('trace_filter', () => [{ fromBlock: '0xffffff' }])
    expect(ec?.error).toEqual(ea?.error)
  })

  it('trace_replayBlockTransactions: the same traces and state diffs', async () => {
    // Init code deploying a runtime that stores 42 at slot 1 when called.
    const runtime = '602a60015500'
    // A tip paid first, so that the coinbase exists before on both chains.
    await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x1' }])
    const len = (runtime.length / 2).toString(16).padStart(2, '0')
    const init = `0x60${len}600c60003960${len}6000f3${runtime}`
    const deployed = await both('eth_sendTransaction', [{ from: A0, data: init }])
    const nodes = [anvil, cairn] as const
    const created = await Promise.all(
      nodes.map(async (n, i) => {
        const r = await minedReceipt(n, deployed[i]?.result)
        return (r.result as { contractAddress: string }).contractAddress
      }),
    )
    type Replay = {
      output: string
      stateDiff: Record<string, Record<string, unknown>> | null
      trace: unknown[]
      vmTrace: null
    }
    // Each chain's own numbers (balances, gas) aside: which accounts changed, and how.
    const view = (r: Answer, contract: string) =>
      (r.result as Replay[]).map((x) => ({
        output: x.output,
        vmTrace: x.vmTrace,
        trace: (
          x.trace as {
            type: string
            action: { from: string; to?: string; value: string }
            subtraces: number
            traceAddress: number[]
          }[]
        ).map((t) => [t.type, t.action.from, t.action.to, t.action.value, t.subtraces, t.traceAddress]),
        stateDiff:
          x.stateDiff &&
          Object.fromEntries(
            Object.entries(x.stateDiff).map(([a, d]) => [
              a === contract ? 'contract' : a,
              { ...(shape(d) as object), nonce: d.nonce, code: d.code, storage: d.storage },
            ]),
          ),
      }))
    for (const types of [['trace'], ['trace', 'stateDiff'], [], ['stateDiff']]) {
      const [a, c] = await Promise.all(
        nodes.map(async (n) => (await rpcRequest(n.url, 'trace_replayBlockTransactions', ['latest', types])) as Answer),
      )
      expect(c?.error, JSON.stringify(types)).toBeUndefined()
      const [va, vc] = [view(a as Answer, created[0] as string), view(c as Answer, created[1] as string)]
      // The created contract's address is each chain's own: compare the traces without it.
      expect(JSON.stringify(vc).replaceAll(created[1] as string, 'C'), JSON.stringify(types)).toBe(
        JSON.stringify(va).replaceAll(created[0] as string, 'C'),
      )
    }
    // A call that writes storage: the slot's diff.
    await Promise.all(nodes.map((n, i) => rpcRequest(n.url, 'eth_sendTransaction', [{ from: A0, to: created[i] }])))
    const [a, c] = await Promise.all(
      nodes.map(
        async (n) => (await rpcRequest(n.url, 'trace_replayBlockTransactions', ['latest', ['stateDiff']])) as Answer,
      ),
    )
    const storageOf = (r: Answer, contract: string) => (r.result as Replay[])[0]?.stateDiff?.[contract]?.storage
    expect(storageOf(c as Answer, created[1] as string)).toEqual(storageOf(a as Answer, created[0] as string))
    expect(storageOf(c as Answer, created[1] as string)).toEqual({
      [`0x${'00'.repeat(31)}01`]: { '*': { from: `0x${'00'.repeat(32)}`, to: `0x${'00'.repeat(31)}2a` } },
    })
  })

  it('anvil_reorg replaces the last blocks alike (request, raw and empty forms; refusals)', async () => {
    const nodes = [anvil, cairn] as const
    const on = async (method: string, params: unknown[]) =>
      Promise.all(nodes.map(async (n) => (await rpcRequest(n.url, method, params)) as Answer))
    const count = async (who: string) =>
      (await on('eth_getTransactionCount', [who, 'latest'])).map((r) => BigInt(r.result as string))
    const balance = async (who: string) =>
      (await on('eth_getBalance', [who, 'latest'])).map((r) => BigInt(r.result as string))
    await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x1' }])
    await both('eth_sendTransaction', [{ from: A0, to: STRANGER, value: '0x2' }])
    const heights = (await latest()).map((b) => BigInt(b.number))
    const [n0, n9, s0] = [await count(A0), await count(A9), await balance(STRANGER)]
    await same('anvil_reorg', [
      2,
      [
        [{ from: A9, to: STRANGER, value: '0x10' }, 1],
        [{ from: A9, to: STRANGER, value: '0x20' }, 0],
        [{ from: A9, to: STRANGER, value: '0x40' }, 1],
      ],
    ])
    expect((await latest()).map((b) => BigInt(b.number))).toEqual(heights)
    for (const [i, n] of nodes.entries()) {
      const h = heights[i] as bigint
      const blocks = await Promise.all(
        [h - 1n, h].map(async (k) => {
          const r = (await rpcRequest(n.url, 'eth_getBlockByNumber', [toHex(k), true])) as Answer
          return (r.result as { transactions: { value: string }[] }).transactions.map((t) => t.value)
        }),
      )
      expect(blocks, i === 0 ? 'anvil' : 'cairn').toEqual([['0x20'], ['0x10', '0x40']])
    }
    // The old blocks' two sends are gone (not pooled again), A9's three are in.
    expect((await count(A0)).map((n, i) => (n0[i] as bigint) - n)).toEqual([2n, 2n])
    expect((await count(A9)).map((n, i) => n - (n9[i] as bigint))).toEqual([3n, 3n])
    expect((await balance(STRANGER)).map((b, i) => b - (s0[i] as bigint))).toEqual([0x70n - 3n, 0x70n - 3n])
    await same('txpool_status')
    // A raw transaction, signed for the ancestor's nonce of A9 (on an empty head).
    await same('evm_mine')
    const raws = await Promise.all(
      nodes.map(async (n, i) => {
        const nonce = toHex((await count(A9))[i] as bigint)
        const r = (await rpcRequest(n.url, 'eth_signTransaction', [
          { from: A9, to: STRANGER, value: '0x99', nonce, gas: '0x5208' },
        ])) as Answer
        return r.result as string
      }),
    )
    await Promise.all(nodes.map((n, i) => rpcRequest(n.url, 'anvil_reorg', [1, [[raws[i], 0]]])))
    const tips = await on('eth_getBlockByNumber', ['latest', true])
    expect(
      tips.map((t) => (t.result as { transactions: { value: string }[] }).transactions.map((x) => x.value)),
    ).toEqual([['0x99'], ['0x99']])
    await same('anvil_reorg', [2, []])
    expect((await latest()).map((b) => BigInt(b.number))).toEqual(heights.map((h) => h + 1n))
    // Refusals: the same codes and messages (the height in the first is each chain's).
    const deep = await on('anvil_reorg', [1_000_000, []])
    expect(deep.map((d) => d.error?.code)).toEqual([-32602, -32602])
    expect(deep[1]?.error?.message.replace(/height \d+/, 'height N')).toBe(
      deep[0]?.error?.message.replace(/height \d+/, 'height N'),
    )
    const [a, c] = await both('anvil_reorg', [2, [[{ from: A9, to: STRANGER }, 2]]])
    expect(c.error).toEqual(a.error)
    const [ra, rc] = await both('anvil_reorg', [1, [['0x1234', 0]]])
    expect(rc.error).toEqual(ra.error)
  })

  // Last: loading a dump with a foreign head block leaves Anvil's block history unlike its own.
  it("anvil_dumpState / anvil_loadState: each loads the other's dump", async () => {
    const holder = '0x6666666666666666666666666666666666666666'
    const slot = `0x${'00'.repeat(31)}07`
    await same('anvil_setBalance', [holder, '0x1234'])
    await same('anvil_setNonce', [holder, '0x3'])
    await same('anvil_setCode', [holder, '0x6001600055'])
    await same('anvil_setStorageAt', [holder, slot, `0x${'00'.repeat(31)}2a`])
    const [da, dc] = await alike('anvil_dumpState')
    const [ba, bc] = (await both('eth_getBalance', [A0, 'latest'])).map((r) => r.result)
    // Swap the dumps: each node loads the other's, on a fresh address set, and reads alike.
    await same('anvil_setBalance', [holder, '0x0'])
    await same('anvil_setStorageAt', [holder, slot, `0x${'00'.repeat(32)}`])
    const [la, lc] = await Promise.all([
      rpcRequest(anvil.url, 'anvil_loadState', [dc]),
      rpcRequest(cairn.url, 'anvil_loadState', [da]),
    ])
    expect([(la as Answer).result, (lc as Answer).result], JSON.stringify(la)).toEqual([true, true])
    expect(await same('eth_getBalance', [holder, 'latest'])).toBe('0x1234')
    expect(await same('eth_getStorageAt', [holder, slot, 'latest'])).toBe(`0x${'00'.repeat(31)}2a`)
    await same('eth_getTransactionCount', [holder, 'latest'])
    await same('eth_getCode', [holder, 'latest'])
    // A0's balance differs (each chain's own fees): each node now holds the other's.
    const [la0, lc0] = (await both('eth_getBalance', [A0, 'latest'])).map((r) => r.result)
    expect([la0, lc0]).toEqual([bc, ba])
  })
  // Issue 55: the methods Cairn added, sent to both. Counted: answered alike (the same result, or
  // the same error code), and where they differ on purpose (docs/api/json-rpc.md says why).
  it('the methods of issue 55 answer as Anvil does, but where Cairn says why not', async () => {
    const EMPTY_CODE_HASH = '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
    const UNKNOWN = `0x${'11'.repeat(32)}`
    const sig = `0x${'ab'.repeat(32)}${'cd'.repeat(32)}1b`
    const matched: string[] = []
    const sameAnswer = async (method: string, params: unknown[]) => {
      const [a, c] = await both(method, params)
      expect(c.error?.code, `${method}: ${JSON.stringify(c.error)}`).toBe(a.error?.code)
      if (a.error === undefined) expect(c.result, method).toEqual(a.result)
      matched.push(method)
    }
    await sameAnswer('debug_codeByHash', [EMPTY_CODE_HASH])
    await sameAnswer('anvil_getBlobByHash', [UNKNOWN])
    await sameAnswer('anvil_getBlobsByTransactionHash', [UNKNOWN])
    await sameAnswer('anvil_impersonateSignature', [[sig, STRANGER]])
    await sameAnswer('tenderly_setBalance', [STRANGER, '0x10'])
    await sameAnswer('tenderly_addBalance', [STRANGER, '0x10'])
    await same('eth_getBalance', [STRANGER, 'latest'])
    for (const m of ['anvil_setMinGasPrice', 'hardhat_setMinGasPrice']) {
      const [a, c] = await both(m, ['0x10'])
      expect(c.error).toEqual(a.error)
      matched.push(m)
    }
    await sameAnswer('eth_getWork', [])
    await sameAnswer('eth_submitHashrate', ['0x500000', UNKNOWN])
    await sameAnswer('eth_submitWork', [`0x${'00'.repeat(8)}`, UNKNOWN, UNKNOWN])
    // eth_getAccountInfo: the same fields, the same nonce and code (the balance pays each chain's fees).
    const [ia, ic] = (await alike('eth_getAccountInfo', [A0, 'latest'])) as Record<string, string>[]
    expect([ic?.nonce, ic?.code]).toEqual([ia?.nonce, ia?.code])
    await sameAnswer('eth_getAccountInfo', [STRANGER, 'latest'])
    // erigon_getHeaderByNumber with a JSON number: the block without transaction bodies.
    const [ha, hc] = await both('erigon_getHeaderByNumber', [0])
    expect(Object.keys(hc.result as object).sort()).toEqual(
      Object.keys(
        ((await rpcRequest(cairn.url, 'eth_getBlockByNumber', ['0x0', false])) as Answer).result as object,
      ).sort(),
    )
    expect((hc.result as Block).number).toBe((ha.result as Block).number)
    matched.push('erigon_getHeaderByNumber')
    // EIP-7966: the receipt of the transaction sent, in one call.
    const [sa, sc] = await both('eth_sendTransactionSync', [{ from: A0, to: STRANGER, value: '0x1' }])
    const keys = (r: Answer) =>
      Object.keys(r.result as object)
        .filter((k) => k !== 'blobGasPrice')
        .sort()
    expect(keys(sc)).toEqual(keys(sa))
    expect((sc.result as { status: string }).status).toBe((sa.result as { status: string }).status)
    matched.push('eth_sendTransactionSync')
    const [na, nc] = (await both('eth_getTransactionCount', [A9, 'latest'])).map((r) => Number(r.result))
    const signed = await Promise.all(
      [na, nc].map((nonce) =>
        privateKeyToAccount(devAccount(9).privateKey).signTransaction({
          chainId: 1337,
          nonce: nonce as number,
          to: STRANGER,
          value: 1n,
          gas: 21_000n,
          maxFeePerGas: 100_000_000_000n,
          maxPriorityFeePerGas: 1n,
          type: 'eip1559',
        }),
      ),
    )
    const ra = (await rpcRequest(anvil.url, 'eth_sendRawTransactionSync', [signed[0]])) as Answer
    const rc = (await rpcRequest(cairn.url, 'eth_sendRawTransactionSync', [signed[1]])) as Answer
    expect(rc.error, JSON.stringify(rc.error)).toBeUndefined()
    expect(keys(rc)).toEqual(keys(ra))
    matched.push('eth_sendRawTransactionSync')
    // Different on purpose: Cairn signs v3 and EIP-712 objects (Anvil: "Not implemented"), refuses
    // to change its chain id (Anvil changes it), and refuses debug_dbGet its own way.
    const typed = {
      types: { EIP712Domain: [{ name: 'name', type: 'string' }], Mail: [{ name: 'body', type: 'string' }] },
      primaryType: 'Mail',
      domain: { name: 'x' },
      message: { body: 'hi' },
    }
    const [v3a, v3c] = await both('eth_signTypedData_v3', [A0, typed])
    expect(v3a.error?.code).toBe(-32603)
    expect(v3c.result).toBe(((await rpcRequest(cairn.url, 'eth_signTypedData_v4', [A0, typed])) as Answer).result)
    expect(((await rpcRequest(cairn.url, 'anvil_setChainId', [31_338])) as Answer).error?.message).toMatch(
      /fixed at genesis/,
    )
    console.log(`issue 55 methods: ${matched.length} answered alike (${matched.join(', ')}); 4 differ on purpose`)
    expect(matched.length).toBe(15)
  })
})
