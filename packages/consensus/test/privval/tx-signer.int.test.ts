/**
 * Transaction keys on the remote signer, over real mutual TLS on loopback: a RemoteTxSigner's
 * viem account signs transactions that recover to the key (exactly what the key would sign in
 * process); the policy refuses with CONSENSUS_BFT_SIGNER_REFUSED and nothing comes back; a
 * validator key never signs a transaction and a transaction key never signs a vote; messages are
 * not signed; and a signer restarted on the same port serves the next transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAddress } from '@cairn/crypto'
import { createRemoteTxSignerMetrics, RemoteTxSigner, type TxPolicy } from '@cairn/keys/remote-signer'
import { bytesToHex, isCairnError, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { type Hex, recoverTransactionAddress, type TransactionSerializable } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConsensusErrorCode, MsgType } from '../../src/index.ts'
import {
  createSignerServerMetrics,
  MemoryProtectionStore,
  RemoteSigner,
  SignerServer,
  SignProtection,
} from '../../src/privval/index.ts'
import { validatorKey } from '../harness/bft-network.ts'
import { makePki } from './tls-fixture.ts'

const CHAIN = 1337n
const TX_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 11)
const TX_ADDRESS = bytesToHex(privateKeyToAddress(TX_KEY))
const ALLOWED = `0x${'ab'.repeat(20)}` as Hex
const dir = mkdtempSync(join(tmpdir(), 'cairn-tx-signer-'))
let pki: ReturnType<typeof makePki>
const servers: SignerServer[] = []
const closers: (() => void)[] = []

beforeAll(() => {
  pki = makePki(['trader'])
})
afterEach(async () => {
  for (const c of closers.splice(0)) c()
  for (const s of servers.splice(0)) await s.close()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function startSigner(policy: TxPolicy, port = 0, registry?: Registry) {
  const server = new SignerServer(
    {
      chainId: CHAIN,
      host: '127.0.0.1',
      port,
      tls: { ...pki.server, ca: [pki.ca], clients: [pki.clients.trader?.cert as string] },
      txPolicy: policy,
    },
    {
      keys: [validatorKey(0)],
      txKeys: [TX_KEY],
      protection: new SignProtection({ store: new MemoryProtectionStore() }),
      logger: silentLogger,
      ...(registry ? { metrics: createSignerServerMetrics(registry) } : {}),
    },
  )
  servers.push(server)
  return { server, port: (await server.listen()).port }
}

async function connectTx(port: number, address?: string, registry?: Registry): Promise<RemoteTxSigner> {
  const signer = await RemoteTxSigner.connect(
    {
      url: `tls://127.0.0.1:${port}`,
      tls: { ca: pki.ca, ...(pki.clients.trader as { cert: string; key: string }) },
      timeoutMs: 3000,
      ...(address ? { address } : {}),
    },
    { logger: silentLogger, ...(registry ? { metrics: createRemoteTxSignerMetrics(registry) } : {}) },
  )
  closers.push(() => signer.close())
  return signer
}

const tx = (over: Partial<TransactionSerializable> = {}): TransactionSerializable =>
  ({
    type: 'eip1559',
    chainId: 1337,
    to: ALLOWED,
    value: 5n,
    nonce: 1,
    gas: 60_000n,
    maxFeePerGas: 3n * 10n ** 9n,
    maxPriorityFeePerGas: 10n ** 9n,
    ...over,
  }) as TransactionSerializable

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p
    return 'signed'
  } catch (err) {
    return isCairnError(err) ? err.code : String(err)
  }
}

describe('transaction keys on the remote signer', () => {
  it('signs what the key would sign in process, and refuses what its policy does not allow', async () => {
    const registry = new Registry()
    const { port } = await startSigner(
      { allowTo: [{ to: ALLOWED, selectors: null }], allowCreate: false, maxValue: 10n ** 18n },
      0,
      registry,
    )
    const client = new Registry()
    const signer = await connectTx(port, undefined, client)
    expect(signer.address.toLowerCase()).toBe(TX_ADDRESS)
    const account = signer.account()
    const local = privateKeyToAccount(bytesToHex(TX_KEY) as Hex)
    for (const t of [
      tx(),
      tx({ nonce: 2, data: '0xabcdef' }),
      tx({ type: 'legacy', gasPrice: 10n ** 9n, maxFeePerGas: undefined, maxPriorityFeePerGas: undefined } as never),
    ]) {
      const signed = await account.signTransaction(t)
      expect(signed).toBe(await local.signTransaction(t))
      expect((await recoverTransactionAddress({ serializedTransaction: signed as never })).toLowerCase()).toBe(
        TX_ADDRESS,
      )
    }
    // the policy, each refusal the caller's
    expect(await codeOf(account.signTransaction(tx({ to: `0x${'cd'.repeat(20)}` })))).toBe(
      ConsensusErrorCode.BFT_SIGNER_REFUSED,
    )
    expect(await codeOf(account.signTransaction(tx({ to: undefined })))).toBe(ConsensusErrorCode.BFT_SIGNER_REFUSED)
    expect(await codeOf(account.signTransaction(tx({ value: 10n ** 18n + 1n })))).toBe(
      ConsensusErrorCode.BFT_SIGNER_REFUSED,
    )
    expect(await codeOf(account.signTransaction(tx({ chainId: 1 })))).toBe(ConsensusErrorCode.BFT_SIGNER_REFUSED)
    expect(await codeOf(account.signMessage({ message: 'hi' }))).toBe(ConsensusErrorCode.BFT_SIGNER_REFUSED)
    const metrics = await registry.getSingleMetricAsString('cairn_signer_requests_total')
    expect(metrics).toContain('method="signTransaction",outcome="signed"} 3')
    expect(metrics).toContain('method="signTransaction",outcome="refused"} 4')
    const ours = await client.getSingleMetricAsString('cairn_remote_tx_signer_requests_total')
    expect(ours).toContain('outcome="signed"} 3')
    expect(ours).toContain('outcome="refused"} 4')
    expect(ours).toContain('outcome="unavailable"} 0')
  })

  it('a validator key never signs a transaction, and a transaction key never signs a vote', async () => {
    const { server, port } = await startSigner({ allowTo: null, allowCreate: true, maxValue: null })
    const validator = bytesToHex(privateKeyToAddress(validatorKey(0)))
    expect(server.addresses).toEqual([validator])
    expect(server.txAddresses).toEqual([TX_ADDRESS])
    // asked for the validator's address as a transaction key: refused at connect
    expect(await codeOf(connectTx(port, validator))).toBe(ConsensusErrorCode.BFT_SIGNER_CONFIG)
    const refused = server.handle({ id: 1, method: 'signTransaction', key: validator, chainId: '1337', tx: '0x02c0' })
    expect(refused).toMatchObject({ error: { code: 'UNKNOWN_KEY' } })
    const vote = { type: 1, height: 5, round: 0, blockHash: null }
    expect(server.handle({ id: 2, method: 'signVote', key: TX_ADDRESS, chainId: '1337', vote })).toMatchObject({
      error: { code: 'UNKNOWN_KEY' },
    })
    // and a consensus client finds only the validator key
    const node = await RemoteSigner.connect(
      {
        chainId: CHAIN,
        url: `tls://127.0.0.1:${port}`,
        tls: { ca: pki.ca, ...(pki.clients.trader as { cert: string; key: string }) },
      },
      { logger: silentLogger },
    )
    closers.push(() => node.close())
    expect(bytesToHex(node.address)).toBe(validator)
    const signed = await node.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: null })
    expect('signature' in signed).toBe(true)
  })

  it('a signer that went away: the transaction fails as unavailable; restarted, the next one is signed', async () => {
    const policy: TxPolicy = { allowTo: null, allowCreate: false, maxValue: null }
    const first = await startSigner(policy)
    const signer = await connectTx(first.port)
    const account = signer.account()
    expect(await codeOf(account.signTransaction(tx()))).toBe('signed')
    await first.server.close()
    servers.splice(servers.indexOf(first.server), 1)
    expect(await codeOf(account.signTransaction(tx({ nonce: 2 })))).toBe(ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE)
    await startSigner(policy, first.port)
    expect(await codeOf(account.signTransaction(tx({ nonce: 3 })))).toBe('signed')
  })
})
