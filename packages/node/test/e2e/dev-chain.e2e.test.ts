// End-to-end acceptance test: a dev node started as a real process, driven by viem and ethers
// exactly like a dapp developer would, then restarted on the same datadir.
//
//   npx vitest run packages/node/test/e2e                        # Cairn
//   CAIRN_E2E_ANVIL=1 npx vitest run packages/node/test/e2e      # Anvil (reference) and Cairn
//   CAIRN_E2E_RPC_LOG=/tmp/rpc npx vitest run ...                # also dump every JSON-RPC call made
//   CAIRN_E2E_RPC_DENY=eth_fillTransaction npx vitest run ...    # hide methods (-32601) to test client fallbacks
//
// The tests of one node run in order and build on each other (deploy, then use the contracts...).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, ContractFactory, getCreateAddress, Interface, id, isError, zeroPadValue } from 'ethers'
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  decodeEventLog,
  encodeErrorResult,
  encodeFunctionData,
  getContractAddress,
  type Hash,
  type Hex,
  pad,
  parseAbi,
  parseEther,
  parseGwei,
  stringToHex,
  type TransactionReceipt,
  toHex,
} from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { compileContracts, emitterAbi, tokenAbi } from './contracts.ts'
import { CHAIN_ID, killAllNodes, type NodeHandle, type NodeKind, rpcRequest, startNode } from './harness.ts'
import {
  DEV_ACCOUNTS,
  devAccount,
  type EthersClients,
  effectiveGasPrice,
  GENESIS_BALANCE,
  logsBloom,
  makeEthersClients,
  makeViemClients,
  nextBaseFee,
  type ViemClients,
  ZERO_BLOOM,
  ZERO_HASH,
} from './helpers.ts'
import { type RpcRecorder, startRpcRecorder } from './rpc-recorder.ts'

const KINDS: NodeKind[] = process.env.CAIRN_E2E_ANVIL === '1' ? ['anvil', 'cairn'] : ['cairn']

const [A0, A1, A2, A3] = [0, 1, 2, 3].map((i) => devAccount(i).address) as [Address, Address, Address, Address]
/** Accounts that only ever receive ETH, so their balance is exactly known. */
const RECIPIENTS = [5, 6, 7, 8, 9].map((i) => devAccount(i).address)

const SUPPLY = parseEther('1000000')
const REVERT_REASON = 'nope: value too large'
const errorStringAbi = parseAbi(['error Error(string)'])
const transferTopic = id('Transfer(address,address,uint256)') as Hex
const approvalTopic = id('Approval(address,address,uint256)') as Hex

const artifacts = compileContracts()
const tokenIface = new Interface(tokenAbi)
const emitterIface = new Interface(emitterAbi)

describe.each(KINDS)('%s dev chain', { timeout: 60_000 }, (kind) => {
  let datadir: string
  let node: NodeHandle
  let recorder: RpcRecorder
  let viem: ViemClients
  let eth: EthersClients

  /** Head block number; every transaction the test sends is expected to be mined alone in head + 1. */
  let head = 0n
  let token: Address | undefined
  let emitter: Address | undefined
  let tokenDeployBlock = 0n
  const tokenTransfers: TransactionReceipt[] = []

  beforeAll(async () => {
    datadir = mkdtempSync(join(tmpdir(), `cairn-e2e-${kind}-`))
    node = await startNode(kind, { datadir })
    recorder = await startRpcRecorder(node.url, { deny: process.env.CAIRN_E2E_RPC_DENY?.split(',') ?? [] })
    viem = makeViemClients(recorder.urlFor('viem'))
    eth = makeEthersClients(recorder.urlFor('ethers'))
  })

  // After a failed test, resynchronise `head` so one failure does not cascade into every later test.
  let headUnknown = false
  beforeEach(async ({ task, onTestFailed }) => {
    recorder?.tag(task.name)
    if (headUnknown) {
      head = await viem.public.getBlockNumber({ cacheTime: 0 })
      headUnknown = false
    }
    onTestFailed(() => {
      headUnknown = true
    })
  })

  afterAll(async () => {
    eth?.provider.destroy()
    await node?.stop().catch(() => undefined)
    killAllNodes()
    if (recorder) {
      dumpRpcLog(kind, recorder)
      await recorder.close()
    }
    if (datadir) rmSync(datadir, { recursive: true, force: true })
  })

  // -------------------------------------------------------------------------------------------
  // Helpers (closures over the running node)

  const deployedToken = () => must(token, 'Token not deployed (see the deploy test)')
  const deployedEmitter = () => must(emitter, 'Emitter not deployed (see the deploy test)')

  /**
   * Waits for the receipt and checks everything knowable about it: mined alone in the next block,
   * consistent with the block and the transaction, exact effective gas price and logs bloom.
   */
  async function mined(
    hash: Hash,
    expected: { from: Address; to: Address | null; status?: 'success' | 'reverted'; type?: string },
  ) {
    const receipt = await viem.public.waitForTransactionReceipt({ hash, pollingInterval: 50, timeout: 20_000 })
    const [block, tx] = await Promise.all([
      viem.public.getBlock({ blockNumber: receipt.blockNumber }),
      viem.public.getTransaction({ hash }),
    ])
    const expectedNumber = head + 1n
    head = receipt.blockNumber
    expect(receipt.blockNumber, 'mined alone in the next block').toBe(expectedNumber)
    expect(receipt).toMatchObject({
      transactionHash: hash,
      status: expected.status ?? 'success',
      from: expected.from.toLowerCase(),
      to: expected.to?.toLowerCase() ?? null,
      blockHash: block.hash,
      transactionIndex: 0,
      cumulativeGasUsed: receipt.gasUsed,
      type: expected.type ?? 'eip1559',
    })
    expect(receipt.gasUsed).toBeGreaterThanOrEqual(21_000n)
    expect(receipt.gasUsed).toBeLessThanOrEqual(tx.gas)
    expect(receipt.effectiveGasPrice).toBe(effectiveGasPrice(tx, must(block.baseFeePerGas, 'baseFeePerGas')))
    expect(receipt.logsBloom).toBe(logsBloom(receipt.logs))
    if (receipt.logs.length === 0) expect(receipt.logsBloom).toBe(ZERO_BLOOM)
    receipt.logs.forEach((log, i) => {
      expect(log).toMatchObject({ blockHash: block.hash, blockNumber: block.number, transactionHash: hash })
      expect(log).toMatchObject({ transactionIndex: 0, logIndex: i, removed: false })
    })

    expect(block.transactions).toEqual([hash])
    expect(block.gasUsed).toBe(receipt.gasUsed)
    expect(block.logsBloom).toBe(receipt.logsBloom)
    expect(tx).toMatchObject({ blockHash: block.hash, blockNumber: block.number, transactionIndex: 0 })
    expect(tx.from).toBe(expected.from.toLowerCase())
    return { receipt, block }
  }

  const fee = (receipt: TransactionReceipt) => receipt.gasUsed * receipt.effectiveGasPrice
  const balance = (address: Address) => viem.public.getBalance({ address })
  const readValue = () =>
    viem.public.readContract({ address: deployedEmitter(), abi: emitterAbi, functionName: 'value' })
  const tokenBalance = (address: Address) =>
    viem.public.readContract({ address: deployedToken(), abi: tokenAbi, functionName: 'balanceOf', args: [address] })

  // -------------------------------------------------------------------------------------------

  it('starts a fresh dev chain with the 10 funded, unlocked mnemonic accounts', async () => {
    if (kind === 'cairn') await expect.poll(() => node.logs(), { timeout: 2_000 }).toContain('listening')
    expect(await viem.public.getChainId()).toBe(CHAIN_ID)
    expect((await eth.provider.getNetwork()).chainId).toBe(BigInt(CHAIN_ID))
    expect(await viem.public.getBlockNumber({ cacheTime: 0 })).toBe(0n)

    const addresses = DEV_ACCOUNTS.map((a) => a.address)
    expect(await viem.unlocked0.getAddresses()).toEqual(addresses)
    expect((await eth.provider.listAccounts()).map((s) => s.address)).toEqual(addresses)
    for (const address of addresses) {
      expect(await viem.public.getBalance({ address, blockNumber: 0n })).toBe(GENESIS_BALANCE)
      expect(await viem.public.getTransactionCount({ address })).toBe(0)
    }

    const genesis = await viem.public.getBlock({ blockNumber: 0n })
    expect(genesis).toMatchObject({ number: 0n, parentHash: ZERO_HASH, transactions: [] })
    expect(genesis.baseFeePerGas).toBeGreaterThan(0n)
  })

  it('deploys the ERC-20 with viem (unlocked account 0)', async () => {
    const nonce = await viem.public.getTransactionCount({ address: A0 })
    const hash = await viem.unlocked0.deployContract({
      abi: tokenAbi,
      bytecode: artifacts.Token.bytecode,
      args: ['Cairn Token', 'CRN', SUPPLY],
    })
    const { receipt } = await mined(hash, { from: A0, to: null })
    token = getContractAddress({ from: A0, nonce: BigInt(nonce) })
    tokenDeployBlock = receipt.blockNumber
    expect(receipt.contractAddress).toBe(token.toLowerCase())
    expect(await viem.public.getCode({ address: token })).toBe(artifacts.Token.deployedBytecode)

    const [log] = receipt.logs
    expect(receipt.logs).toHaveLength(1)
    expect(decodeEventLog({ abi: tokenAbi, ...must(log, 'mint log') })).toEqual({
      eventName: 'Transfer',
      args: { from: '0x0000000000000000000000000000000000000000', to: A0, value: SUPPLY },
    })

    const read = <F extends 'name' | 'symbol' | 'decimals' | 'totalSupply'>(functionName: F) =>
      viem.public.readContract({ address: deployedToken(), abi: tokenAbi, functionName })
    expect(await read('name')).toBe('Cairn Token')
    expect(await read('symbol')).toBe('CRN')
    expect(await read('decimals')).toBe(18)
    expect(await read('totalSupply')).toBe(SUPPLY)
    expect(await tokenBalance(A0)).toBe(SUPPLY)
  })

  it('deploys the Emitter with ethers (Wallet, account 2)', async () => {
    const nonce = await eth.provider.getTransactionCount(A2)
    const factory = new ContractFactory(emitterAbi, artifacts.Emitter.bytecode, eth.wallet2)
    const contract = await factory.deploy()
    await contract.waitForDeployment()
    const tx = must(contract.deploymentTransaction(), 'deployment transaction')
    const ethersReceipt = must(await tx.wait(), 'ethers deployment receipt')

    emitter = (await contract.getAddress()) as Address
    expect(emitter).toBe(getCreateAddress({ from: A2, nonce }))
    expect(ethersReceipt.contractAddress).toBe(emitter)
    const { receipt } = await mined(tx.hash as Hash, { from: A2, to: null })
    expect(receipt.contractAddress).toBe(emitter.toLowerCase())
    expect(await eth.provider.getCode(emitter)).toBe(artifacts.Emitter.deployedBytecode)
    expect(await readValue()).toBe(0n)
  })

  // -------------------------------------------------------------------------------------------
  // ETH transfers, one per way of sending; recipients only ever receive, so their balance is exact.

  const ethTransfers: { from: string; sender: Address; send: (to: Address, value: bigint) => Promise<Hash> }[] = [
    {
      from: 'viem, unlocked account 0 (eth_sendTransaction)',
      sender: A0,
      send: (to, value) => viem.unlocked0.sendTransaction({ to, value }),
    },
    {
      from: 'viem, local account 1 (eth_sendRawTransaction)',
      sender: A1,
      send: (to, value) => viem.local1.sendTransaction({ to, value }),
    },
    {
      from: 'ethers, Wallet account 2 (eth_sendRawTransaction)',
      sender: A2,
      send: async (to, value) => {
        const tx = await eth.wallet2.sendTransaction({ to, value })
        const receipt = must(await tx.wait(), 'ethers receipt')
        expect(receipt.status).toBe(1)
        expect(receipt.fee).toBe(receipt.gasUsed * receipt.gasPrice)
        return tx.hash as Hash
      },
    },
    {
      from: 'ethers, JsonRpcSigner account 3 (eth_sendTransaction)',
      sender: A3,
      send: async (to, value) => {
        const tx = await (await eth.signer3()).sendTransaction({ to, value })
        expect((await tx.wait())?.status).toBe(1)
        return tx.hash as Hash
      },
    },
  ]

  it.each(
    ethTransfers.map((t, i) => [t.from, i] as const),
  )('transfers ETH from %s with exact balance accounting', async (_, i) => {
    const { sender, send } = must(ethTransfers[i], 'transfer case')
    const to = must(RECIPIENTS[i], 'recipient')
    const value = parseEther('1.5') + BigInt(i)
    const [senderBefore, nonceBefore] = await Promise.all([
      balance(sender),
      viem.public.getTransactionCount({ address: sender }),
    ])
    expect(await balance(to)).toBe(GENESIS_BALANCE)

    const { receipt } = await mined(await send(to, value), { from: sender, to })
    expect(receipt.gasUsed).toBe(21_000n)
    expect(receipt.logs).toEqual([])
    expect(await balance(sender)).toBe(senderBefore - value - fee(receipt))
    expect(await balance(to)).toBe(GENESIS_BALANCE + value)
    expect(await viem.public.getTransactionCount({ address: sender })).toBe(nonceBefore + 1)
  })

  // -------------------------------------------------------------------------------------------
  // Tokens

  it('transfers tokens (viem) and decodes the Transfer log from the receipt', async () => {
    const amount = parseEther('1000')
    const hash = await viem.unlocked0.writeContract({
      address: deployedToken(),
      abi: tokenAbi,
      functionName: 'transfer',
      args: [A1, amount],
    })
    const { receipt } = await mined(hash, { from: A0, to: deployedToken() })
    tokenTransfers.push(receipt)

    expect(receipt.logs).toHaveLength(1)
    const log = must(receipt.logs[0], 'Transfer log')
    expect(log.address).toBe(deployedToken().toLowerCase())
    expect(log.topics).toEqual([transferTopic, pad(A0.toLowerCase() as Hex), pad(A1.toLowerCase() as Hex)])
    expect(log.data).toBe(pad(toHex(amount)))
    expect(decodeEventLog({ abi: tokenAbi, data: log.data, topics: log.topics })).toEqual({
      eventName: 'Transfer',
      args: { from: A0, to: A1, value: amount },
    })
    expect(await tokenBalance(A0)).toBe(SUPPLY - amount)
    expect(await tokenBalance(A1)).toBe(amount)
  })

  it('approves (viem, local account) and transferFroms (ethers Wallet), decoding logs with ethers', async () => {
    const approveHash = await viem.local1.writeContract({
      address: deployedToken(),
      abi: tokenAbi,
      functionName: 'approve',
      args: [A2, parseEther('300')],
    })
    const { receipt: approval } = await mined(approveHash, { from: A1, to: deployedToken() })
    expect(approval.logs.map((l) => tokenIface.parseLog(l)?.args.toArray())).toEqual([[A1, A2, parseEther('300')]])

    const asWallet2 = new Contract(deployedToken(), tokenAbi, eth.wallet2)
    const tx = await asWallet2.getFunction('transferFrom')(A1, A3, parseEther('200'))
    const ethersReceipt = await tx.wait()
    const parsed = ethersReceipt.logs.map((l: { topics: string[]; data: string }) => tokenIface.parseLog(l))
    expect(parsed).toHaveLength(1)
    expect(parsed[0]?.name).toBe('Transfer')
    expect(parsed[0]?.args.toObject()).toEqual({ from: A1, to: A3, value: parseEther('200') })

    const { receipt } = await mined(tx.hash, { from: A2, to: deployedToken() })
    tokenTransfers.push(receipt)
    expect(
      await viem.public.readContract({
        address: deployedToken(),
        abi: tokenAbi,
        functionName: 'allowance',
        args: [A1, A2],
      }),
    ).toBe(parseEther('100'))
  })

  it('transfers tokens from the unlocked ethers signer and keeps the supply whole', async () => {
    const asSigner3 = new Contract(deployedToken(), tokenAbi, await eth.signer3())
    const tx = await asSigner3.getFunction('transfer')(A1, parseEther('50'))
    const { receipt } = await mined(tx.hash, { from: A3, to: deployedToken() })
    tokenTransfers.push(receipt)

    const expected = new Map([
      [A0, SUPPLY - parseEther('1000')],
      [A1, parseEther('850')],
      [A2, 0n],
      [A3, parseEther('150')],
    ])
    for (const [address, amount] of expected) expect(await tokenBalance(address)).toBe(amount)
    const asProvider = new Contract(deployedToken(), tokenAbi, eth.provider)
    expect(await asProvider.getFunction('balanceOf')(A3)).toBe(parseEther('150'))
    expect([...expected.values()].reduce((a, b) => a + b)).toBe(SUPPLY)
  })

  it('finds the token logs with eth_getLogs, filtering by address and topics', async () => {
    const [t1, t3, t4] = tokenTransfers.map((r) => must(r.logs[0], 'transfer log'))
    const range = { fromBlock: tokenDeployBlock, toBlock: 'latest' as const }
    const events = (args: { from?: Address; to?: Address }) =>
      viem.public.getContractEvents({ address: deployedToken(), abi: tokenAbi, eventName: 'Transfer', args, ...range })

    // Both indexed topics: exactly the first transfer, identical to the receipt's log.
    const byBoth = await events({ from: A0, to: A1 })
    expect(byBoth).toHaveLength(1)
    expect(byBoth[0]).toMatchObject({ ...t1, args: { from: A0, to: A1, value: parseEther('1000') } })

    // Second topic only: the mint (from the zero address) is the only transfer to account 0.
    const toA0 = await events({ to: A0 })
    expect(toA0.map((l) => l.args)).toEqual([
      { from: '0x0000000000000000000000000000000000000000', to: A0, value: SUPPLY },
    ])
    expect(toA0[0]?.blockNumber).toBe(tokenDeployBlock)

    // OR within a topic position (raw eth_getLogs): transfers to account 1 or 3, in chain order.
    const toA1orA3 = await viem.public.request({
      method: 'eth_getLogs',
      params: [
        {
          address: deployedToken(),
          topics: [transferTopic, null, [pad(A1.toLowerCase() as Hex), pad(A3.toLowerCase() as Hex)]],
          fromBlock: toHex(tokenDeployBlock),
          toBlock: 'latest',
        },
      ],
    })
    expect(toA1orA3.map((l) => l.transactionHash)).toEqual([t1, t3, t4].map((l) => l?.transactionHash))

    // ethers: typed filter, raw topics, and a filter on another address.
    const asProvider = new Contract(deployedToken(), tokenAbi, eth.provider)
    const fromA1 = await asProvider.queryFilter(asProvider.filters.Transfer?.(A1) ?? [], Number(tokenDeployBlock))
    expect(fromA1.map((l) => l.transactionHash)).toEqual([t3?.transactionHash])
    const approvals = await eth.provider.getLogs({
      address: deployedToken(),
      topics: [approvalTopic, zeroPadValue(A1, 32)],
      fromBlock: Number(tokenDeployBlock),
    })
    expect(approvals).toHaveLength(1)
    expect(await eth.provider.getLogs({ address: deployedEmitter(), topics: [transferTopic], fromBlock: 0 })).toEqual(
      [],
    )

    // By block hash (EIP-234).
    const byHash = await viem.public.getLogs({ blockHash: must(t1?.blockHash, 'block hash') })
    expect(byHash.map((l) => l.transactionHash)).toEqual([t1?.transactionHash])
  })

  // -------------------------------------------------------------------------------------------
  // Emitter: storage, indexed topics

  it('stores a value and emits three indexed topics (ethers unlocked signer, then viem)', async () => {
    const asSigner3 = new Contract(deployedEmitter(), emitterAbi, await eth.signer3())
    const tx = await asSigner3.getFunction('set')(42)
    const { receipt } = await mined(tx.hash, { from: A3, to: deployedEmitter() })
    const parsed = receipt.logs.map((l) => emitterIface.parseLog(l))
    expect(parsed.map((p) => [p?.name, p?.args.toArray()])).toEqual([['ValueChanged', [A3, 0n, 42n]]])
    expect(receipt.logs[0]?.topics).toHaveLength(4)
    expect(receipt.logs[0]?.data).toBe('0x')

    expect(await readValue()).toBe(42n)
    expect(await viem.public.getStorageAt({ address: deployedEmitter(), slot: '0x0' })).toBe(pad(toHex(42)))

    const strict = await viem.local1.writeContract({
      address: deployedEmitter(),
      abi: emitterAbi,
      functionName: 'setStrict',
      args: [7n],
    })
    const { receipt: second } = await mined(strict, { from: A1, to: deployedEmitter() })
    expect(decodeEventLog({ abi: emitterAbi, ...must(second.logs[0], 'log') })).toEqual({
      eventName: 'ValueChanged',
      args: { setter: A1, oldValue: 42n, newValue: 7n },
    })
    expect(await readValue()).toBe(7n)

    const tag = stringToHex('greeting', { size: 32 })
    const noteHash = await viem.unlocked0.writeContract({
      address: deployedEmitter(),
      abi: emitterAbi,
      functionName: 'note',
      args: [tag, 'hello, cairn'],
    })
    const { receipt: note } = await mined(noteHash, { from: A0, to: deployedEmitter() })
    expect(decodeEventLog({ abi: emitterAbi, ...must(note.logs[0], 'log') })).toEqual({
      eventName: 'Note',
      args: { tag, message: 'hello, cairn' },
    })

    const changed = (args: { setter?: Address; oldValue?: bigint; newValue?: bigint }) =>
      viem.public.getContractEvents({
        address: deployedEmitter(),
        abi: emitterAbi,
        eventName: 'ValueChanged',
        args,
        fromBlock: 0n,
      })
    expect((await changed({ newValue: 42n })).map((l) => l.transactionHash)).toEqual([receipt.transactionHash])
    expect((await changed({ setter: A1 })).map((l) => l.args)).toEqual([{ setter: A1, oldValue: 42n, newValue: 7n }])
    expect(await changed({ setter: A2 })).toEqual([])
    const all = await viem.public.getLogs({ address: deployedEmitter(), fromBlock: 0n, toBlock: 'latest' })
    expect(all.map((l) => l.transactionHash)).toEqual([receipt, second, note].map((r) => r.transactionHash))
  })

  // -------------------------------------------------------------------------------------------
  // Reverts

  it('answers a reverting eth_call / eth_estimateGas with code 3 and the revert data', async () => {
    const call = { from: A0, to: deployedEmitter() }
    const cases = [
      {
        data: encodeFunctionData({ abi: emitterAbi, functionName: 'set', args: [101n] }),
        revert: encodeErrorResult({ abi: errorStringAbi, errorName: 'Error', args: [REVERT_REASON] }),
      },
      {
        data: encodeFunctionData({ abi: emitterAbi, functionName: 'setStrict', args: [101n] }),
        revert: encodeErrorResult({ abi: emitterAbi, errorName: 'ValueTooLarge', args: [101n, 100n] }),
      },
    ]
    for (const { data, revert } of cases) {
      for (const [method, params] of [
        ['eth_call', [{ ...call, data }, 'latest']],
        ['eth_estimateGas', [{ ...call, data }]],
      ] as const) {
        const response = await rpcRequest(node.url, method, [...params])
        expect(response, method).toHaveProperty('error')
        if (!('error' in response)) continue
        // viem only decodes revert data for code 3 (or -32603); ethers wants /revert/i in the message.
        expect(response.error.code, method).toBe(3)
        expect(response.error.message, method).toMatch(/execution reverted/)
        expect(response.error.data, method).toBe(revert)
      }
    }
  })

  it('surfaces the revert reason in viem (simulateContract and writeContract)', async () => {
    const set101 = { address: deployedEmitter(), abi: emitterAbi, functionName: 'set', args: [101n] } as const
    await expectViemRevert(viem.public.simulateContract({ ...set101, account: A0 }), REVERT_REASON)
    await expectViemRevert(viem.public.simulateContract({ ...set101, account: viem.local1.account }), REVERT_REASON)
    // A local account estimates gas before signing (eth_estimateGas): that reverts.
    await expectViemRevert(viem.local1.writeContract(set101), REVERT_REASON)
    // An unlocked account sends eth_sendTransaction with no gas: the node estimates it. Geth answers
    // the revert as an error (code 3 + data); Anvil instead mines the transaction, which reverts.
    if (kind === 'anvil') {
      await mined(await viem.unlocked0.writeContract(set101), { from: A0, to: deployedEmitter(), status: 'reverted' })
    } else {
      await expectViemRevert(viem.unlocked0.writeContract(set101), REVERT_REASON)
    }
    expect(await viem.public.getBlockNumber({ cacheTime: 0 })).toBe(head) // nothing (else) was mined
  })

  it('surfaces the revert reason in ethers (estimateGas, staticCall, send)', async () => {
    const asWallet2 = new Contract(deployedEmitter(), emitterAbi, eth.wallet2)
    const asSigner3 = new Contract(deployedEmitter(), emitterAbi, await eth.signer3())
    const attempts = [
      () => asWallet2.getFunction('set').estimateGas(101),
      () => asWallet2.getFunction('set').staticCall(101),
      () => asWallet2.getFunction('set')(101),
      () => asSigner3.getFunction('set')(101),
    ]
    for (const attempt of attempts) {
      const err = await attempt().then(
        () => expect.unreachable('should have reverted'),
        (e: unknown) => e,
      )
      expect(isError(err, 'CALL_EXCEPTION'), String(err)).toBe(true)
      expect(err).toMatchObject({ code: 'CALL_EXCEPTION', reason: REVERT_REASON })
      expect(err).toMatchObject({ revert: { name: 'Error', args: [REVERT_REASON] } })
    }
    expect(await viem.public.getBlockNumber({ cacheTime: 0 })).toBe(head)
  })

  it('decodes the custom error ValueTooLarge(101, 100) with viem and ethers', async () => {
    const err = await viem.public
      .simulateContract({
        address: deployedEmitter(),
        abi: emitterAbi,
        functionName: 'setStrict',
        args: [101n],
        account: A0,
      })
      .then(
        () => expect.unreachable('should have reverted'),
        (e: unknown) => e,
      )
    const reverted = revertedError(err)
    expect(reverted.data?.errorName).toBe('ValueTooLarge')
    expect(reverted.data?.args).toEqual([101n, 100n])
    expect(reverted.message).toContain('ValueTooLarge(uint256 value, uint256 max)')

    const asProvider = new Contract(deployedEmitter(), emitterAbi, eth.provider)
    const ethersErr = await asProvider
      .getFunction('setStrict')
      .staticCall(101, { from: A0 })
      .then(
        () => expect.unreachable('should have reverted'),
        (e: unknown) => e,
      )
    expect(ethersErr).toMatchObject({ code: 'CALL_EXCEPTION', revert: { name: 'ValueTooLarge', args: [101n, 100n] } })
  })

  it('mines a reverting transaction sent with explicit gas, with status 0', async () => {
    const gas = 100_000n
    const valueBefore = await readValue()

    const before = await balance(A0)
    const hash = await viem.unlocked0.writeContract({
      address: deployedEmitter(),
      abi: emitterAbi,
      functionName: 'set',
      args: [101n],
      gas,
    })
    const { receipt } = await mined(hash, { from: A0, to: deployedEmitter(), status: 'reverted' })
    expect(receipt.logs).toEqual([])
    expect(receipt.gasUsed).toBeGreaterThan(21_000n)
    expect(receipt.gasUsed).toBeLessThan(gas)
    expect(await balance(A0)).toBe(before - fee(receipt))
    expect((await viem.public.getTransaction({ hash })).gas).toBe(gas)

    const asWallet2 = new Contract(deployedEmitter(), emitterAbi, eth.wallet2)
    const tx = await asWallet2.getFunction('set')(101, { gasLimit: gas })
    const err = await tx.wait().then(
      () => expect.unreachable('wait() should throw'),
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'CALL_EXCEPTION', receipt: { status: 0, hash: tx.hash } })
    await mined(tx.hash, { from: A2, to: deployedEmitter(), status: 'reverted' })
    expect(await readValue()).toBe(valueBefore)
  })

  // -------------------------------------------------------------------------------------------
  // Transaction types and fees

  it('accepts EIP-1559 transactions with explicit fees and charges min(maxFee, baseFee + tip)', async () => {
    const maxFeePerGas = parseGwei('50')
    const maxPriorityFeePerGas = parseGwei('2')
    const to = must(RECIPIENTS[4], 'recipient')
    const hash = await viem.local1.sendTransaction({ to, value: 1n, maxFeePerGas, maxPriorityFeePerGas })
    const { receipt, block } = await mined(hash, { from: A1, to, type: 'eip1559' })
    const tx = await viem.public.getTransaction({ hash })
    expect(tx).toMatchObject({ type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas, chainId: CHAIN_ID })
    expect(receipt.effectiveGasPrice).toBe(must(block.baseFeePerGas, 'base fee') + maxPriorityFeePerGas)

    const sent = await eth.wallet2.sendTransaction({ to, value: 1n, type: 2, maxFeePerGas, maxPriorityFeePerGas })
    expect((await sent.wait())?.type).toBe(2)
    await mined(sent.hash as Hash, { from: A2, to, type: 'eip1559' })
  })

  it('accepts legacy (type 0) transactions, EIP-155 signed', async () => {
    const to = must(RECIPIENTS[4], 'recipient')
    const gasPrice = await legacyGasPrice()
    const hash = await viem.local1.sendTransaction({ to, value: 1n, type: 'legacy', gasPrice })
    const { receipt } = await mined(hash, { from: A1, to, type: 'legacy' })
    expect(receipt.effectiveGasPrice).toBe(gasPrice)
    const tx = await viem.public.getTransaction({ hash })
    expect(tx).toMatchObject({ type: 'legacy', gasPrice, chainId: CHAIN_ID })
    expect([BigInt(CHAIN_ID) * 2n + 35n, BigInt(CHAIN_ID) * 2n + 36n]).toContain(tx.v)
    const raw = await rpcRequest<{ type: Hex }>(node.url, 'eth_getTransactionByHash', [hash])
    expect('result' in raw && raw.result.type).toBe('0x0')

    const sent = await eth.wallet2.sendTransaction({ to, value: 1n, type: 0, gasPrice })
    expect((await sent.wait())?.type).toBe(0)
    const { receipt: fromEthers } = await mined(sent.hash as Hash, { from: A2, to, type: 'legacy' })
    expect(fromEthers.effectiveGasPrice).toBe(gasPrice)
  })

  it('accepts EIP-2930 (type 1) transactions with an access list', async () => {
    const to = must(RECIPIENTS[4], 'recipient')
    const gasPrice = await legacyGasPrice()
    const accessList = [{ address: deployedEmitter(), storageKeys: [ZERO_HASH] }]
    const hash = await viem.local1.sendTransaction({ to, value: 1n, type: 'eip2930', gasPrice, accessList })
    const { receipt } = await mined(hash, { from: A1, to, type: 'eip2930' })
    // 21000 + 2400 per address + 1900 per storage key (EIP-2930).
    expect(receipt.gasUsed).toBe(25_300n)
    expect(receipt.effectiveGasPrice).toBe(gasPrice)
    const tx = await viem.public.getTransaction({ hash })
    expect(tx).toMatchObject({ type: 'eip2930', gasPrice, chainId: CHAIN_ID })
    expect(tx.accessList).toEqual([{ address: deployedEmitter().toLowerCase(), storageKeys: [ZERO_HASH] }])

    // Through eth_sendTransaction of the unlocked ethers signer, calling the contract.
    const asSigner3 = new Contract(deployedEmitter(), emitterAbi, await eth.signer3())
    const sent = await asSigner3.getFunction('set')(9, { type: 1, gasPrice, accessList })
    expect((await sent.wait())?.type).toBe(1)
    await mined(sent.hash, { from: A3, to: deployedEmitter(), type: 'eip2930' })
    expect(await readValue()).toBe(9n)
  })

  it('links every block to its parent, with baseFeePerGas following EIP-1559', async () => {
    let parent = await viem.public.getBlock({ blockNumber: 0n })
    for (let n = 1n; n <= head; n++) {
      const block = await viem.public.getBlock({ blockNumber: n })
      expect(block.number).toBe(n)
      expect(block.parentHash).toBe(parent.hash)
      expect(block.timestamp).toBeGreaterThanOrEqual(parent.timestamp)
      // Anvil quirk: block 1 reuses the genesis base fee instead of applying the rule to genesis.
      if (!(kind === 'anvil' && n === 1n)) {
        const expected = nextBaseFee({ ...parent, baseFeePerGas: must(parent.baseFeePerGas, 'base fee') })
        expect(block.baseFeePerGas, `base fee of block ${n}`).toBe(expected)
      }
      parent = block
    }
    expect(await viem.public.getBlockNumber({ cacheTime: 0 })).toBe(head)
  })

  it('returns full transaction objects from eth_getBlockByNumber("latest", true)', async () => {
    const to = must(RECIPIENTS[4], 'recipient')
    const hash = await viem.unlocked0.sendTransaction({ to, value: 3n })
    const { block: mindedBlock } = await mined(hash, { from: A0, to })

    const latest = await viem.public.getBlock({ blockTag: 'latest', includeTransactions: true })
    expect(latest.hash).toBe(mindedBlock.hash)
    expect(latest.transactions).toHaveLength(1)
    const tx = must(latest.transactions[0], 'tx object')
    expect(tx).toEqual(await viem.public.getTransaction({ hash }))
    expect(tx).toMatchObject({ hash, from: A0.toLowerCase(), to: to.toLowerCase(), value: 3n, blockHash: latest.hash })
    expect(await viem.public.getBlock({ blockHash: must(latest.hash, 'hash'), includeTransactions: true })).toEqual(
      latest,
    )

    const fromEthers = must(await eth.provider.getBlock('latest', true), 'ethers block')
    expect(fromEthers.hash).toBe(latest.hash)
    expect(fromEthers.prefetchedTransactions.map((t) => [t.hash, t.from, t.value])).toEqual([[hash, A0, 3n]])
    expect(fromEthers.baseFeePerGas).toBe(latest.baseFeePerGas)
  })

  it('BLOCKHASH returns the real parent hash, in a transaction and in eth_call', async () => {
    const hash = await viem.unlocked0.writeContract({
      address: deployedEmitter(),
      abi: emitterAbi,
      functionName: 'recordParentHash',
    })
    const { receipt, block } = await mined(hash, { from: A0, to: deployedEmitter() })
    const parent = await viem.public.getBlock({ blockNumber: block.number - 1n })
    const { args } = decodeEventLog({ abi: emitterAbi, eventName: 'ParentHash', ...must(receipt.logs[0], 'log') })
    expect(args).toEqual({ blockNumber: block.number, parentHash: parent.hash })
    expect(args.parentHash).not.toBe(ZERO_HASH)
    expect(args.parentHash).toBe(block.parentHash)

    const read = (blockNumber?: bigint) =>
      viem.public.readContract({ address: deployedEmitter(), abi: emitterAbi, functionName: 'parentHash', blockNumber })
    expect(await read(block.number)).toEqual([block.number, parent.hash])
    const [number, parentHash] = await read() // 'latest': whichever block env the node uses, it must be consistent
    expect([head, head + 1n]).toContain(number)
    expect(parentHash).toBe((await viem.public.getBlock({ blockNumber: number - 1n })).hash)
  })

  // -------------------------------------------------------------------------------------------
  // Persistence

  it('survives a SIGTERM restart on the same datadir with everything intact', async () => {
    const before = await snapshot()
    expect(before.blockNumber).toBe(head)

    expect(await node.stop()).toBe(0)
    node = await startNode(kind, { datadir })
    recorder.retarget(node.url)

    const after = await snapshot()
    expect(after.blockNumber).toBe(before.blockNumber)
    expect(after.balances).toEqual(before.balances)
    expect(after.nonces).toEqual(before.nonces)
    expect(after.tokenBalances).toEqual(before.tokenBalances)
    expect(after.emitterValue).toBe(before.emitterValue)
    expect(after.code).toEqual(before.code)
    expect(after.code.token).toBe(artifacts.Token.deployedBytecode)
    expect(after.blocks).toEqual(before.blocks)
    expect(after.receipts).toEqual(before.receipts)

    // The chain goes on from where it was, and account 0 is still unlocked.
    const to = must(RECIPIENTS[4], 'recipient')
    const balanceBefore = await balance(A0)
    const hash = await viem.unlocked0.sendTransaction({ to, value: 7n })
    const { receipt, block } = await mined(hash, { from: A0, to })
    expect(receipt.blockNumber).toBe(before.blockNumber + 1n)
    expect(block.parentHash).toBe(before.blocks.at(-1)?.hash)
    expect(await balance(A0)).toBe(balanceBefore - 7n - fee(receipt))
  })

  // viem answers getBlockNumber from a cache for `pollingInterval` (50 ms here): the head is read
  // with cacheTime 0 wherever a test compares it with the block it just mined.
  async function snapshot() {
    const blockNumber = await viem.public.getBlockNumber({ cacheTime: 0 })
    const blocks = []
    for (let n = 0n; n <= blockNumber; n++) {
      blocks.push(await viem.public.getBlock({ blockNumber: n, includeTransactions: true }))
    }
    const hashes = blocks.flatMap((b) => b.transactions.map((t) => t.hash))
    const receipts = await Promise.all(hashes.map((hash) => viem.public.getTransactionReceipt({ hash })))
    const accounts = [...DEV_ACCOUNTS.map((a) => a.address), deployedToken(), deployedEmitter()]
    return {
      blockNumber,
      blocks,
      receipts,
      balances: await Promise.all(accounts.map((address) => balance(address))),
      nonces: await Promise.all(accounts.map((address) => viem.public.getTransactionCount({ address }))),
      tokenBalances: await Promise.all([A0, A1, A2, A3].map(tokenBalance)),
      emitterValue: await readValue(),
      code: {
        token: await viem.public.getCode({ address: deployedToken() }),
        emitter: await viem.public.getCode({ address: deployedEmitter() }),
      },
    }
  }

  /** A gas price that a type 0/1 transaction can pay in the next block: twice the current base fee, plus 1 gwei. */
  async function legacyGasPrice(): Promise<bigint> {
    const latest = await viem.public.getBlock()
    return must(latest.baseFeePerGas, 'base fee') * 2n + parseGwei('1')
  }
})

// ---------------------------------------------------------------------------------------------

function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`missing: ${what}`)
  return value
}

/** The ContractFunctionRevertedError inside a viem error. */
function revertedError(err: unknown): ContractFunctionRevertedError {
  expect(err).toBeInstanceOf(BaseError)
  const reverted = (err as BaseError).walk((e) => e instanceof ContractFunctionRevertedError)
  expect(reverted, String(err)).toBeInstanceOf(ContractFunctionRevertedError)
  return reverted as ContractFunctionRevertedError
}

async function expectViemRevert(attempt: Promise<unknown>, reason: string): Promise<void> {
  const err = await attempt.then(
    () => expect.unreachable('should have reverted'),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(BaseError)
  expect((err as BaseError).message).toContain(reason)
  expect(revertedError(err).reason).toBe(reason)
}

/** With CAIRN_E2E_RPC_LOG=DIR, writes every JSON-RPC call the clients made (DIR/rpc-KIND.json) and a summary. */
function dumpRpcLog(kind: NodeKind, recorder: RpcRecorder): void {
  const dir = process.env.CAIRN_E2E_RPC_LOG
  if (!dir) return
  mkdirSync(dir, { recursive: true })
  const replacer = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)
  writeFileSync(
    join(dir, `rpc-${kind}.json`),
    JSON.stringify({ summary: recorder.summary(), calls: recorder.calls }, replacer, 2),
  )
}
