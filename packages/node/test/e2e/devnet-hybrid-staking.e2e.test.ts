// A 4-validator hybrid devnet (secp256k1 ‖ ML-DSA-65), and an ml-dsa-65 one (validators known by
// their keys' pqAddress), with proof of stake: `cairn devnet init --signature-scheme … --param …` bonds the validators in the staking contract and registers
// their ML-DSA-65 keys there (`Staking.initializePq`); four `cairn start` processes finalize, and
// every certificate verifies under hybrid against the set read from the chain alone (the genesis's
// staking contract, then the headers' change records). On the running chain a registration with a
// key of the wrong length and `submitDoubleSign` revert with their errors; under hybrid `cairn
// staking create-validator --pq-seed-file` registers a fifth validator whose change record, read
// header by header, brings it in with its ML-DSA key.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBftExtra, resolveBftConfig, ValidatorSchedule } from '@cairn/consensus'
import { HYBRID_SIGNATURE_BYTES, pqAddress, verifySchemeCertificate } from '@cairn/consensus/pq'
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { ML_DSA65_SIGNATURE_BYTES, mlDsa65Keygen } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { type Abi, decodeErrorResult, encodeFunctionData, type Hex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc, runCli } from '../cli/run-cli.ts'
import { CairnProcesses, initDevnet, startDevnetNodes, waitFor } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-hybrid-staking-'))
const procs = new CairnProcesses()
afterAll(() => {
  procs.killAll()
  rmSync(dir, { recursive: true, force: true })
})

/** eth_call's revert as `Name(args)` (the staking contract's custom error), or null when it passes. */
async function revertOf(url: string, call: { from: string; data: Hex; value?: bigint }): Promise<string | null> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_call',
      params: [
        {
          from: call.from,
          to: STAKING_ADDRESS,
          data: call.data,
          value: `0x${(call.value ?? 0n).toString(16)}`,
          gas: '0x989680',
        },
        'latest',
      ],
    }),
  })
  const body = (await res.json()) as { result?: string; error?: { message: string; data?: string } }
  if (body.error === undefined) return null
  const data = (typeof body.error.data === 'string' ? body.error.data : '0x') as Hex
  const decoded = decodeErrorResult({ abi: staking.abi as Abi, data })
  return `${decoded.errorName}(${(decoded.args ?? []).map(String).join(',')})`
}

const CASES = [
  { scheme: 'hybrid', code: 1, signature: HYBRID_SIGNATURE_BYTES },
  { scheme: 'ml-dsa-65', code: 2, signature: ML_DSA65_SIGNATURE_BYTES },
] as const

describe('a PQ devnet with proof of stake', () => {
  it.each(
    CASES,
  )('$scheme: four `cairn start` finalize; certificates verify against the keys in the staking contract', async ({
    scheme,
    code,
    signature,
  }) => {
    const dn = join(dir, scheme)
    const { base } = await initDevnet(dn, ['--signature-scheme', scheme, '--param', 'staking.epochLength=4'])
    const genesis = JSON.parse(readFileSync(join(dn, 'genesis.json'), 'utf8')) as {
      config: { cairn: { bft: { staking?: boolean; signatureScheme?: string; validators?: unknown } } }
      alloc: Record<string, { balance?: string }>
    }
    expect(genesis.config.cairn.bft).toMatchObject({ staking: true, signatureScheme: scheme })
    expect(genesis.config.cairn.bft.validators).toBeUndefined()
    // The genesis set and its ML-DSA keys, from the genesis's staking contract alone.
    const bft = await resolveBftConfig(genesis)
    expect(bft.validators).toHaveLength(4)
    for (const v of bft.validators) expect(v.pqPublicKey?.length).toBe(1952)
    // Under ml-dsa-65 the staking contract knows each validator by its key's address.
    if (scheme === 'ml-dsa-65') {
      for (const v of bft.validators) expect(v.address).toEqual(pqAddress(v.pqPublicKey as Uint8Array))
    }

    const { nodes, urls, out, finalizedAtLeast } = startDevnetNodes(procs, dn, base)
    await finalizedAtLeast(9n, 180_000, 'nine finalized blocks on every node (two epochs of 4)')
    // Each signer found its ML-DSA key among the genesis's (read from the staking contract).
    for (const n of nodes) {
      expect(n.out()).toMatch(scheme === 'hybrid' ? /signing hybrid/ : /signing ML-DSA-65/)
      expect(n.out()).not.toMatch(/the genesis does not register/)
    }
    const schedule = new ValidatorSchedule(bft.validators, undefined, scheme)
    for (let h = 2n; h <= 9n; h++) {
      const block = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${h.toString(16)}`, false])) as {
        extraData: `0x${string}`
      }
      const extra = decodeBftExtra(hexToBytes(block.extraData), scheme)
      schedule.recordHeader(Number(h), extra.validatorChanges ?? [])
      const cert = extra.parentCertificate
      if (cert === null) throw new Error(`block ${h} carries no certificate`)
      expect(cert.height).toBe(Number(h) - 1)
      expect(cert.signatures.length).toBeGreaterThanOrEqual(3)
      for (const s of cert.signatures) expect(s.signature.length).toBe(signature)
      const set = schedule.at(cert.height)
      verifySchemeCertificate(cert, scheme, set, (a) => set.pqKeyOf(a), 1337n)
    }

    // The running contract knows the scheme: a short key and submitDoubleSign are refused.
    const funded = Object.keys(genesis.alloc).find(
      (a) => a.toLowerCase() !== STAKING_ADDRESS.toLowerCase() && BigInt(genesis.alloc[a]?.balance ?? '0') > 10n ** 20n,
    ) as string
    const register = (key: Hex) =>
      encodeFunctionData({
        abi: staking.abi as Abi,
        functionName: 'createValidator',
        args: [`0x${'ab'.repeat(20)}`, 1000, 2000, 100, 10n ** 18n, 'pq', key],
      })
    expect(
      await revertOf(urls[1] as string, { from: funded, data: register(`0x${'00'.repeat(1951)}`), value: 10n ** 21n }),
    ).toBe('InvalidPqPublicKey(1951,1952)')
    const doubleSign = encodeFunctionData({
      abi: staking.abi as Abi,
      functionName: 'submitDoubleSign',
      args: [1n, 0, 1, `0x${'11'.repeat(32)}`, '0x', `0x${'22'.repeat(32)}`, '0x'],
    })
    expect(await revertOf(urls[1] as string, { from: funded, data: doubleSign })).toBe(`RefusedUnderPqScheme(${code})`)
    if (scheme !== 'hybrid') return

    // `cairn staking create-validator --pq-seed-file` registers a fifth validator with its key; the
    // next epoch's change record brings it into the set with that key (it signs nothing: its 10
    // coins are 0.25 % of the power, the chain goes on).
    const seedFile = join(dir, 'v5.mldsa.seed')
    writeFileSync(seedFile, `${'5a'.repeat(32)}\n`, { mode: 0o600 })
    const v5key = mlDsa65Keygen(hexToBytes(`0x${'5a'.repeat(32)}`)).publicKey
    const v5 = `0x${'5e'.repeat(20)}` as Hex
    const created = await runCli([
      'staking',
      'create-validator',
      '--rpc',
      urls[0] as string,
      '--consensus-address',
      v5,
      '--self-bond',
      '10',
      '--pq-seed-file',
      seedFile,
      '--dev-account',
      '2',
    ])
    expect(created.code, created.stderr).toBe(0)
    // Read on from block 10, header by header, as a light client: verify, then take the changes.
    let next = 10
    let carriedAt = 0
    let carried: Uint8Array | null | undefined
    let failure: unknown
    await waitFor(
      async () => {
        for (;;) {
          const block = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${next.toString(16)}`, false])) as {
            extraData: Hex
          } | null
          if (block === null) return carried !== undefined
          const extra = decodeBftExtra(hexToBytes(block.extraData), scheme)
          try {
            const cert = extra.parentCertificate
            if (cert === null) throw new Error(`block ${next} carries no certificate`)
            const set = schedule.at(cert.height)
            verifySchemeCertificate(cert, scheme, set, (a) => set.pqKeyOf(a), 1337n)
          } catch (err) {
            failure ??= err
          }
          schedule.recordHeader(next, extra.validatorChanges ?? [])
          const change = extra.validatorChanges?.find((c) => bytesToHex(c.address) === v5)
          if (change !== undefined && carried === undefined) {
            carried = change.pqPublicKey
            carriedAt = next
          }
          next++
        }
      },
      120_000,
      'the fifth validator in a change record with its key',
      out,
    )
    expect(failure).toBeUndefined()
    expect(bytesToHex(carried as Uint8Array)).toBe(bytesToHex(v5key))
    expect(schedule.at(carriedAt + 1).pqKeyOf(hexToBytes(v5))).toEqual(v5key)
  }, 300_000)
})
