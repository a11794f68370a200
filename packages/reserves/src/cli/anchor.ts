import { readFileSync } from 'node:fs'
import { EXTERNAL_KEY_OPTIONS, type ExternalKeyFlags, externalKeySource } from '@cairn/keys'
import { CairnError, silentLogger } from '@cairn/utils'
import type { Command } from 'commander'
import { getAddress, type Hex, isAddress } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { anchorRoot } from '../anchor/anchor.ts'
import { type ChainClients, connectChain, DEFAULT_CHAIN_TIMEOUT_MS } from '../anchor/chain-client.ts'
import type { AnchorPayload } from '../anchor/payload.ts'
import {
  anchorInRegistry,
  compareWithRecord,
  deployRegistry,
  readRegistryRecord,
  setPublisher,
} from '../anchor/registry.ts'
import { type KeySource, loadSigner } from '../anchor/signer.ts'
import { ReservesErrorCode } from '../errors.ts'
import type { SnapshotFile } from '../tree-dir/format.ts'
import type { ProofV1 } from '../verifier/proof.ts'
import { readArgFile } from './read-arg-file.ts'

const out = (s: string) => process.stdout.write(`${s}\n`)
const bad = (message: string, hint?: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, message, { fault: 'caller', ...(hint ? { hint } : {}) })

interface KeyFlags extends ExternalKeyFlags {
  keyFile?: string
  passwordFile?: string
  privateKeyFile?: string
}

/**
 * The signing key flags: a keystore and its password file, a hex key file, or a key outside the
 * process — on a PKCS#11 token or a remote signer — with the flags `cairn arb` takes too. Never a
 * key on argv.
 */
function keyOptions(c: Command): Command {
  c.option('--key-file <file>', 'Web3 Secret Storage v3 keystore (JSON) of the signing account')
    .option('--password-file <file>', "the keystore's password (mode 0600)")
    .option('--private-key-file <file>', 'a file holding the hex private key (mode 0600), instead of --key-file')
  for (const [flag, help] of EXTERNAL_KEY_OPTIONS) c.option(flag, help)
  return c
}

const KEY_SOURCES =
  'pass --key-file KEYSTORE --password-file FILE, --private-key-file FILE, --hsm-key LABEL with --hsm-module, --hsm-token and --hsm-pin-file, or --remote-signer URL with --remote-signer-ca, --remote-signer-cert and --remote-signer-key'

function keySource(o: KeyFlags): KeySource {
  const local = o.keyFile ? '--key-file' : o.privateKeyFile ? '--private-key-file' : null
  const external = externalKeySource(o, local, KEY_SOURCES)
  if (external) return external
  if (o.privateKeyFile && o.keyFile) throw bad('pass --key-file or --private-key-file, not both')
  if (o.privateKeyFile) return { privateKeyFile: o.privateKeyFile }
  if (o.keyFile) {
    if (!o.passwordFile) throw bad('--key-file needs --password-file')
    return { keyFile: o.keyFile, passwordFile: o.passwordFile }
  }
  throw bad('a signing key is needed', KEY_SOURCES)
}

function address(text: string, flag: string): Hex {
  if (!isAddress(text, { strict: false })) throw bad(`${flag} ${text} is not an address`)
  return getAddress(text)
}

async function chain(rpc: string, account: LocalAccount | null, timeout: string): Promise<ChainClients> {
  const timeoutMs = Number(timeout)
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw bad(`--timeout ${timeout} is not a positive integer`)
  return connectChain({ url: rpc, timeoutMs }, account, { logger: silentLogger, metrics: null })
}

/** Runs `fn` on the chain with the signing account, then releases the key (an HSM session). */
async function withSigner<T>(
  rpc: string,
  key: KeyFlags,
  timeout: string,
  fn: (c: ChainClients) => Promise<T>,
): Promise<T> {
  const source = keySource(key)
  const signer = await loadSigner(source)
  try {
    return await fn(await chain(rpc, signer.account, timeout))
  } finally {
    signer.close()
  }
}

/** How `anchor --service` reaches the reserves service: a bearer token or an API key, read from files. */
function serviceAuth(o: { tokenFile?: string; apiKeyFile?: string }): Record<string, string> {
  if (o.tokenFile) return { authorization: `Bearer ${readArgFile('--token-file', o.tokenFile, 'utf8').trim()}` }
  if (o.apiKeyFile) return { 'x-api-key': readArgFile('--api-key-file', o.apiKeyFile, 'utf8').trim() }
  throw bad('--service needs --token-file or --api-key-file (an admin credential)')
}

async function serviceCall(url: string, init: RequestInit): Promise<Record<string, unknown>> {
  let res: Response
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(DEFAULT_CHAIN_TIMEOUT_MS) })
  } catch (err) {
    throw new CairnError(ReservesErrorCode.ANCHOR_FAILED, `cannot reach the reserves service at ${url}`, {
      fault: 'transient',
      cause: err,
      hint: 'check --service',
    })
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (!res.ok)
    throw new CairnError(
      ReservesErrorCode.ANCHOR_FAILED,
      `the reserves service answered ${res.status}: ${String(body.message ?? res.statusText)}`,
      { fault: res.status >= 500 ? 'transient' : 'caller' },
    )
  return body
}

/** The payload of a snapshot read from a tree directory or from the service. */
async function snapshotPayload(o: {
  snapshot?: string
  tree?: string
  service?: string
  tokenFile?: string
  apiKeyFile?: string
}): Promise<AnchorPayload> {
  if (o.tree) {
    const meta = JSON.parse(readFileSync(`${o.tree}/snapshot.json`, 'utf8')) as SnapshotFile
    if (o.snapshot && o.snapshot !== meta.snapshotId)
      throw bad(`--snapshot ${o.snapshot} does not match the tree's snapshot ${meta.snapshotId}`)
    return { v: 1, snapshotId: meta.snapshotId, hash: meta.hash, currencies: meta.currencies, root: meta.root }
  }
  if (!o.service || !o.snapshot)
    throw bad('say which snapshot to anchor', 'pass --snapshot ID --service URL, or --tree DIR')
  const s = await serviceCall(`${o.service.replace(/\/$/, '')}/v1/snapshots/${encodeURIComponent(o.snapshot)}`, {
    headers: serviceAuth(o),
  })
  if (s.status !== 'built' || !s.root)
    throw bad(`snapshot ${o.snapshot} is ${String(s.status)}, not built`, 'wait until GET /v1/snapshots/:id says built')
  return {
    v: 1,
    snapshotId: o.snapshot,
    hash: s.hash as AnchorPayload['hash'],
    currencies: s.currencies as AnchorPayload['currencies'],
    root: s.root as AnchorPayload['root'],
  }
}

/** `cairn reserves anchor` and `cairn reserves registry deploy | publisher | show`. */
export function registerAnchor(r: Command): void {
  keyOptions(
    r
      .command('anchor')
      .description(
        "Publish a snapshot's root and totals in a ReservesRegistry contract (or, with --from, as calldata of a node-signed transaction)",
      )
      .option('--snapshot <id>', 'the snapshot id (read from the service with --service, or checked against --tree)')
      .option('--tree <dir>', 'a directory written by cairn reserves build')
      .option('--service <url>', 'the reserves service holding the snapshot; the anchor is recorded there too')
      .option('--token-file <file>', 'an admin bearer token for --service')
      .option('--api-key-file <file>', 'an admin API key for --service')
      .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
      .option('--registry <address>', 'the ReservesRegistry contract (cairn reserves registry deploy)')
      .option('--from <address>', 'legacy calldata anchor: an account the node signs for (eth_sendTransaction)')
      .option('--timeout <ms>', 'per-call timeout for the RPC', String(DEFAULT_CHAIN_TIMEOUT_MS)),
  ).action(
    async (
      o: KeyFlags & {
        snapshot?: string
        tree?: string
        service?: string
        tokenFile?: string
        apiKeyFile?: string
        rpc: string
        registry?: string
        from?: string
        timeout: string
      },
    ) => {
      const payload = await snapshotPayload(o)
      let record: Record<string, unknown>
      if (o.registry) {
        if (o.from) throw bad('--from is for calldata anchors; with --registry the key comes from --key-file')
        const registry = address(o.registry, '--registry')
        record = { ...(await withSigner(o.rpc, o, o.timeout, (c) => anchorInRegistry(c, registry, payload))) }
      } else if (o.from) {
        record = { ...(await anchorRoot(o.rpc, o.from, payload)) }
      } else throw bad('pass --registry ADDRESS (and a key), or --from ADDRESS for a calldata anchor')
      // the chain has it now: print it before telling the service, so a failure there loses nothing
      out(JSON.stringify({ snapshotId: payload.snapshotId, root: payload.root.hash, ...record }))
      if (o.service) {
        const url = `${o.service.replace(/\/$/, '')}/v1/snapshots/${encodeURIComponent(payload.snapshotId)}/anchor`
        try {
          await serviceCall(url, {
            method: 'PUT',
            headers: { ...serviceAuth(o), 'content-type': 'application/json' },
            body: JSON.stringify(record),
          })
        } catch (err) {
          throw new CairnError(
            ReservesErrorCode.ANCHOR_FAILED,
            `the root is anchored on chain, but recording it in the service failed: ${(err as Error).message}`,
            {
              fault: 'transient',
              cause: err,
              hint: `PUT ${url} with the JSON printed above (admin credentials) — do not anchor again`,
            },
          )
        }
      }
    },
  )

  const reg = r.command('registry').description('The ReservesRegistry contract: deploy it, manage publishers, read it')
  keyOptions(
    reg
      .command('deploy')
      .description('Deploy a ReservesRegistry owned by the signing account (which may publish)')
      .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
      .option('--timeout <ms>', 'per-call timeout for the RPC', String(DEFAULT_CHAIN_TIMEOUT_MS)),
  ).action(async (o: KeyFlags & { rpc: string; timeout: string }) => {
    const d = await withSigner(o.rpc, o, o.timeout, deployRegistry)
    out(
      JSON.stringify({
        address: d.address,
        chainId: d.chainId,
        txHash: d.txHash,
        blockNumber: d.blockNumber,
        owner: d.publisher,
      }),
    )
  })
  keyOptions(
    reg
      .command('publisher')
      .description('Allow (or with --revoke, revoke) an account as a publisher; signed by the owner')
      .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
      .requiredOption('--registry <address>', 'the ReservesRegistry contract')
      .requiredOption('--allow <address>', 'the publisher account')
      .option('--revoke', 'revoke instead of allow')
      .option('--timeout <ms>', 'per-call timeout for the RPC', String(DEFAULT_CHAIN_TIMEOUT_MS)),
  ).action(
    async (o: KeyFlags & { rpc: string; registry: string; allow: string; revoke?: boolean; timeout: string }) => {
      const who = address(o.allow, '--allow')
      const registry = address(o.registry, '--registry')
      const txHash = await withSigner(o.rpc, o, o.timeout, (c) => setPublisher(c, registry, who, !o.revoke))
      out(JSON.stringify({ publisher: who, allowed: !o.revoke, txHash }))
    },
  )
  reg
    .command('show')
    .description("Print a snapshot's anchored record")
    .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain')
    .requiredOption('--registry <address>', 'the ReservesRegistry contract')
    .requiredOption('--snapshot <id>', 'the snapshot id')
    .option('--timeout <ms>', 'per-call timeout for the RPC', String(DEFAULT_CHAIN_TIMEOUT_MS))
    .action(async (o: { rpc: string; registry: string; snapshot: string; timeout: string }) => {
      const c = await chain(o.rpc, null, o.timeout)
      const rec = await readRegistryRecord(c, address(o.registry, '--registry'), o.snapshot)
      if (!rec)
        throw new CairnError(
          ReservesErrorCode.ANCHOR_FAILED,
          `snapshot ${o.snapshot} is not anchored in ${o.registry}`,
          {
            fault: 'caller',
          },
        )
      out(JSON.stringify(rec))
    })
}

/** Checks a verified proof against a registry: throws RESERVES_ANCHOR_FAILED when not anchored or different. */
export async function verifyAgainstRegistry(
  proof: ProofV1,
  rpc: string,
  registry: string,
): Promise<{ timestamp: number; publisher: string }> {
  const c = await chain(rpc, null, String(DEFAULT_CHAIN_TIMEOUT_MS))
  const rec = await readRegistryRecord(c, address(registry, '--registry'), proof.snapshotId)
  if (!rec)
    throw new CairnError(
      ReservesErrorCode.ANCHOR_FAILED,
      `snapshot ${proof.snapshotId} is not anchored in registry ${registry} on chain ${c.chain.id}`,
      { fault: 'caller', hint: 'the custodian has not published this root there: do not rely on it' },
    )
  const cmp = compareWithRecord(proof, rec)
  if (!cmp.ok)
    throw new CairnError(
      ReservesErrorCode.ANCHOR_FAILED,
      `the proof does not match the anchored record: ${cmp.reason}`,
      {
        fault: 'caller',
      },
    )
  return { timestamp: rec.timestamp, publisher: rec.publisher }
}
