// viem and ethers against the real node for what they do live: a WebSocket log subscription
// (viem), polled filters (ethers' contract.on), and eth_getProof checked by an independent proof
// verification (@ethereumjs/mpt) against the block's state root.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MerklePatriciaTrie, verifyMPTWithMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Contract } from 'ethers'
import { type Address, createPublicClient, type Hex, hexToBytes, keccak256, pad, webSocket } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileContracts, emitterAbi } from './contracts.ts'
import { killAllNodes, type NodeHandle, startNode } from './harness.ts'
import { devChain, makeEthersClients, makeViemClients } from './helpers.ts'

let datadir: string
let node: NodeHandle
let viem: ReturnType<typeof makeViemClients>
let eth: ReturnType<typeof makeEthersClients>
let emitter: Address

beforeAll(async () => {
  datadir = mkdtempSync(join(tmpdir(), 'cairn-e2e-live-'))
  node = await startNode('cairn', { datadir })
  viem = makeViemClients(node.url)
  eth = makeEthersClients(node.url)
  const hash = await viem.unlocked0.deployContract({ abi: emitterAbi, bytecode: compileContracts().Emitter.bytecode })
  const receipt = await viem.public.waitForTransactionReceipt({ hash, pollingInterval: 50, timeout: 20_000 })
  emitter = receipt.contractAddress as Address
}, 60_000)

afterAll(async () => {
  eth?.provider.destroy()
  await node?.stop().catch(() => undefined)
  killAllNodes()
  if (datadir) rmSync(datadir, { recursive: true, force: true })
})

describe('live clients against cairn', () => {
  it('viem watchContractEvent over WebSocket (eth_subscribe logs) delivers the log of a new transaction', async () => {
    const ws = createPublicClient({ chain: devChain, transport: webSocket(node.url.replace(/^http/, 'ws')) })
    const got = new Promise<{ newValue: bigint; setter: Address }>((resolve) => {
      const unwatch = ws.watchContractEvent({
        address: emitter,
        abi: emitterAbi,
        eventName: 'ValueChanged',
        onLogs: (logs) => {
          const args = logs[0]?.args as { newValue: bigint; setter: Address } | undefined
          if (args) {
            unwatch()
            resolve(args)
          }
        },
      })
    })
    await answered(node.url, 'eth_subscribe') // the subscription is in place
    await viem.unlocked0.writeContract({ address: emitter, abi: emitterAbi, functionName: 'set', args: [7n] })
    const args = await got
    expect(args.newValue).toBe(7n)
    expect(args.setter.toLowerCase()).toBe(viem.unlocked0.account.address.toLowerCase())
    await ws.transport.getRpcClient().then((c) => c.close())
  }, 30_000)

  it('ethers contract.on (eth_newFilter + eth_getFilterChanges) sees a new event', async () => {
    const contract = new Contract(emitter, emitterAbi, eth.provider)
    const got = new Promise<bigint>((resolve) => {
      void contract.on('ValueChanged', (_setter: string, _old: bigint, newValue: bigint) => resolve(newValue))
    })
    await answered(node.url, 'eth_newFilter') // the filter is installed
    await answered(node.url, 'eth_getFilterChanges') // and polled once
    // ethers polls the filter again only on a "block" event, and its block poller takes the block
    // number of its first poll as known without an event. That first poll starts after the filter's
    // first answer: wait for it, or the transaction's block (sealed at once) can be the number it
    // first reads, never announced, and the filter never polled again (a repeat run hung here).
    const polled = await requests(node.url, 'eth_blockNumber')
    while ((await requests(node.url, 'eth_blockNumber')) <= polled) await new Promise((r) => setTimeout(r, 20))
    await viem.unlocked0.writeContract({ address: emitter, abi: emitterAbi, functionName: 'set', args: [9n] })
    expect(await got).toBe(9n)
    await contract.removeAllListeners()
    // ethers uninstalls the filter in the background; wait until the node has answered it, so that
    // destroying the provider later does not cancel it mid-flight (an uncaught rejection in ethers).
    await answered(node.url, 'eth_uninstallFilter')
  }, 30_000)

  it("viem getProof verifies against the block's state root with an independent trie check", async () => {
    const block = await viem.public.getBlock()
    const proof = await viem.public.getProof({ address: emitter, storageKeys: [pad('0x0')], blockNumber: block.number })
    const trie = new MerklePatriciaTrie({ useKeyHashing: true })
    const account = await verifyMPTWithMerkleProof(
      trie,
      hexToBytes(block.stateRoot),
      hexToBytes(emitter),
      proof.accountProof.map((n) => hexToBytes(n)),
    )
    expect(account).not.toBeNull()
    const [nonce, balance, storageRoot, codeHash] = RLP.decode(account as Uint8Array) as Uint8Array[]
    expect(BigInt(`0x${Buffer.from(nonce as Uint8Array).toString('hex') || '0'}`)).toBe(BigInt(proof.nonce))
    expect(BigInt(`0x${Buffer.from(balance as Uint8Array).toString('hex') || '0'}`)).toBe(proof.balance)
    expect(Buffer.from(storageRoot as Uint8Array).toString('hex')).toBe(proof.storageHash.slice(2))
    const code = await viem.public.getCode({ address: emitter, blockNumber: block.number })
    expect(`0x${Buffer.from(codeHash as Uint8Array).toString('hex')}`).toBe(keccak256(code as Hex))
    // the storage slot 0 (value = 9) against the account's storage root
    const slot = proof.storageProof[0]
    expect(slot?.value).toBe(9n)
    const stored = await verifyMPTWithMerkleProof(
      new MerklePatriciaTrie({ useKeyHashing: true }),
      hexToBytes(proof.storageHash),
      hexToBytes(pad('0x0')),
      (slot?.proof ?? []).map((n) => hexToBytes(n)),
    )
    expect(RLP.decode(stored as Uint8Array)).toEqual(Uint8Array.of(9))
    // a tampered proof does not verify
    const bad = proof.accountProof.map((n) => hexToBytes(n))
    const last = bad[bad.length - 1] as Uint8Array
    last[5] = (last[5] ?? 0) ^ 1
    await expect(
      verifyMPTWithMerkleProof(
        new MerklePatriciaTrie({ useKeyHashing: true }),
        hexToBytes(block.stateRoot),
        hexToBytes(emitter),
        bad,
      ),
    ).rejects.toThrow()
  }, 30_000)
})

/**
 * Resolves once the node has answered `method` at least once (its request counter appears in
 * /metrics): waiting for the event a client's background call causes, instead of a fixed sleep.
 */
/** How many `method` requests the node has answered (its `cairn_rpc_requests_total`, all labels). */
async function requests(url: string, method: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let n = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('cairn_rpc_requests_total{') && line.includes(`method="${method}"`)) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return n
}

async function answered(url: string, method: string): Promise<void> {
  const pattern = new RegExp(`cairn_rpc_requests_total\\{[^}]*method="${method}"`)
  while (!pattern.test(await (await fetch(`${url}/metrics`)).text())) await new Promise((r) => setTimeout(r, 20))
}
