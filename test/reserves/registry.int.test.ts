// The ReservesRegistry contract and the viem client side of anchoring, on a real in-process Cairn
// dev node: deploy, roles, anchoring, no overwrite, events, reading back and comparing with proofs.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { reservesRegistry } from '@cairn/contracts'
import { encryptKeystore } from '@cairn/crypto'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import type { Abi, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChainClients, connectChain } from '../../packages/reserves/src/anchor/chain-client.ts'
import {
  anchorInRegistry,
  compareWithRecord,
  deployRegistry,
  readRegistryRecord,
  setPublisher,
} from '../../packages/reserves/src/anchor/registry.ts'
import { loadSigner } from '../../packages/reserves/src/anchor/signer.ts'
import { buildTree } from '../../packages/reserves/src/tree/build.ts'
import { proofFor, rootOf } from '../../packages/reserves/src/tree/proof.ts'
import { type StartedNode, startDevNode } from '../rpc/live-node.ts'

const currencies = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
]
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('ReservesRegistry on a real Cairn dev node', () => {
  let node: StartedNode
  let dir: string
  let owner: ChainClients
  let other: ChainClients
  let registry: Hex
  const metrics = new Registry()
  const tree = buildTree(
    [
      { userId: 'alice', balances: [5n, 1n] },
      { userId: 'bob', balances: [7n, 2n] },
    ],
    { hash: 'sha256', currencies, minDepth: 3 },
  )
  const payload = (snapshotId: string) => ({
    v: 1 as const,
    snapshotId,
    hash: 'sha256' as const,
    currencies,
    root: rootOf(tree),
  })

  beforeAll(async () => {
    node = await startDevNode()
    dir = mkdtempSync(join(tmpdir(), 'cairn-registry-'))
    writeFileSync(join(dir, 'owner.key'), `0x${hex(node.accounts[0]!.privateKey)}\n`, { mode: 0o600 })
    const ks = await encryptKeystore(node.accounts[1]!.privateKey, 'pw', { n: 1024 })
    writeFileSync(join(dir, 'other.json'), JSON.stringify(ks))
    writeFileSync(join(dir, 'other.pw'), 'pw\n', { mode: 0o600 })
    const url = { url: node.url, timeoutMs: 10_000 }
    owner = await connectChain(url, (await loadSigner({ privateKeyFile: join(dir, 'owner.key') })).account, {
      logger: silentLogger,
      metrics,
    })
    other = await connectChain(
      url,
      (await loadSigner({ keyFile: join(dir, 'other.json'), passwordFile: join(dir, 'other.pw') })).account,
      { logger: silentLogger, metrics: null },
    )
  })
  afterAll(async () => {
    await node?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('loads keys from a key file or a keystore, and refuses files others can read', async () => {
    expect(owner.wallet!.account.address).toBe(node.accounts[0]!.address)
    expect(other.wallet!.account.address).toBe(node.accounts[1]!.address)
    chmodSync(join(dir, 'owner.key'), 0o644)
    await expect(loadSigner({ privateKeyFile: join(dir, 'owner.key') })).rejects.toMatchObject({
      code: 'RESERVES_KEY_INVALID',
      fault: 'caller',
    })
    chmodSync(join(dir, 'owner.key'), 0o600)
    writeFileSync(join(dir, 'wrong.pw'), 'nope', { mode: 0o600 })
    await expect(
      loadSigner({ keyFile: join(dir, 'other.json'), passwordFile: join(dir, 'wrong.pw') }),
    ).rejects.toMatchObject({ code: 'RESERVES_KEY_INVALID' })
  })

  it('deploys, anchors, reads back, and compares proofs with the record', async () => {
    const d = await deployRegistry(owner)
    registry = d.address as Hex
    expect(d.chainId).toBe(1337)
    const abi = reservesRegistry.abi as Abi
    expect(await owner.public.readContract({ address: registry, abi, functionName: 'owner' })).toBe(
      node.accounts[0]!.address,
    )
    expect(await readRegistryRecord(owner, registry, 'snap-1')).toBeNull()
    const a = await anchorInRegistry(owner, registry, payload('snap-1'))
    expect(a).toMatchObject({ chainId: 1337, publisher: node.accounts[0]!.address })
    const rec = await readRegistryRecord(other, registry, 'snap-1')
    expect(rec).toMatchObject({
      snapshotId: 'snap-1',
      rootHash: rootOf(tree).hash,
      hashName: 'sha256',
      currencies: ['BTC', 'ETH'],
      totals: ['12', '3'],
      publisher: node.accounts[0]!.address,
    })
    expect(rec!.timestamp).toBeGreaterThan(1_600_000_000)

    const proof = proofFor(tree, 'snap-1', 'alice')
    expect(compareWithRecord(proof, rec!)).toEqual({ ok: true })
    const otherTree = buildTree([{ userId: 'alice', balances: [5n, 1n] }], { hash: 'sha256', currencies, minDepth: 3 })
    expect(compareWithRecord(proofFor(otherTree, 'snap-1', 'alice'), rec!)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/anchored root/),
    })
    const forged = structuredClone(proof)
    forged.root.balances[1] = '4'
    expect(compareWithRecord(forged, rec!)).toMatchObject({ ok: false, reason: expect.stringMatching(/ETH total/) })
    expect(compareWithRecord({ ...proof, hash: 'keccak256' }, rec!)).toMatchObject({ ok: false })

    const logs = await owner.public.getContractEvents({ address: registry, abi, eventName: 'SnapshotAnchored' })
    expect(logs).toHaveLength(1)
    expect(logs[0]!.transactionHash).toBe(a.txHash)
    expect((logs[0] as unknown as { args: { snapshotId: string } }).args.snapshotId).toBe('snap-1')
  })

  it('never overwrites an anchored snapshot, and only publishers may anchor', async () => {
    await expect(anchorInRegistry(owner, registry, payload('snap-1'))).rejects.toMatchObject({
      code: 'RESERVES_ANCHOR_FAILED',
      fault: 'caller',
      message: expect.stringMatching(/already anchored/),
    })
    await expect(anchorInRegistry(other, registry, payload('snap-2'))).rejects.toMatchObject({
      fault: 'caller',
      message: expect.stringMatching(/not a publisher/),
    })
    await expect(setPublisher(other, registry, other.wallet!.account.address, true)).rejects.toMatchObject({
      message: expect.stringMatching(/not the owner/),
    })
    await setPublisher(owner, registry, other.wallet!.account.address, true)
    const a2 = await anchorInRegistry(other, registry, payload('snap-2'))
    expect(a2.publisher).toBe(node.accounts[1]!.address)
    expect((await readRegistryRecord(owner, registry, 'snap-1'))!.publisher).toBe(node.accounts[0]!.address)
    await expect(
      anchorInRegistry(owner, registry, {
        ...payload('snap-3'),
        root: { hash: `0x${'00'.repeat(32)}`, balances: ['1', '1'] },
      }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/root hash is zero/) })
  })

  it('names a missing contract, and an unreachable node is a transient error counted in the metrics', async () => {
    await expect(readRegistryRecord(owner, `0x${'12'.repeat(20)}`, 'snap-1')).rejects.toMatchObject({
      fault: 'caller',
      message: expect.stringMatching(/no contract at/),
    })
    await expect(
      connectChain({ url: 'http://127.0.0.1:9', timeoutMs: 500 }, null, { logger: silentLogger, metrics }),
    ).rejects.toMatchObject({ code: 'RESERVES_ANCHOR_FAILED', fault: 'transient', message: /cannot reach the chain/ })
    const text = await metrics.metrics()
    expect(text).toMatch(/cairn_outbound_calls_total\{target="chain-rpc",outcome="success"\} [1-9]/)
    expect(text).toMatch(/cairn_outbound_calls_total\{target="chain-rpc",outcome="error"\} [1-9]/)
  })
})
