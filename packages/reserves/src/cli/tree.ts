import { readFileSync } from 'node:fs'
import { initCrypto } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { checkAnchor } from '../anchor/anchor.ts'
import { ReservesErrorCode } from '../errors.ts'
import { buildTreeDir } from '../tree-dir/build.ts'
import { proofFromTreeDir } from '../tree-dir/proof.ts'
import type { ProofV1 } from '../verifier/proof.ts'
import { verifyProof } from '../verifier/verify.ts'
import { verifyAgainstRegistry } from './anchor.ts'

const out = (s: string) => process.stdout.write(`${s}\n`)

function bad(message: string, hint?: string): CairnError {
  return new CairnError(ReservesErrorCode.BAD_OPTIONS, message, { fault: 'caller', ...(hint ? { hint } : {}) })
}

function parseCurrencies(text: string | undefined) {
  if (!text) return null
  return text.split(',').map((p) => {
    const [symbol, decimals] = p.split(':')
    return { symbol: (symbol ?? '').trim(), decimals: Number(decimals ?? 0) }
  })
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw bad(`cannot read ${path} as JSON: ${(err as Error).message}`)
  }
}

/** Registers `build`, `proof` and `verify` (of `cairn reserves …`) on `r`: a tree and its proofs, without the service. */
export function registerTreeCommands(r: Command): void {
  r.command('build')
    .description('Build a snapshot tree from CSV (userId,SYM,…) or NDJSON')
    .requiredOption('--input <file>', 'CSV with a header, or .ndjson/.jsonl (then --currencies is required)')
    .requiredOption('--out <dir>', 'directory to write snapshot.json, tree.bin and users.ndjson (secret)')
    .option('--hash <name>', 'sha256 or keccak256', 'sha256')
    .option('--min-depth <n>', 'minimum tree depth (hides the user count)', '10')
    .option('--currencies <list>', 'currencies with decimals, e.g. BTC:8,ETH:18')
    .option('--snapshot-id <id>', 'the snapshot id written into every proof')
    .action(
      async (o: {
        input: string
        out: string
        hash: string
        minDepth: string
        currencies?: string
        snapshotId?: string
      }) => {
        if (o.hash !== 'sha256' && o.hash !== 'keccak256')
          throw bad(`unknown hash ${o.hash}`, 'use sha256 or keccak256')
        const minDepth = Number(o.minDepth)
        if (!Number.isInteger(minDepth)) throw bad(`--min-depth ${o.minDepth} is not an integer`)
        const started = Date.now()
        await initCrypto() // the WASM Keccak, when --hash keccak256
        const id = o.snapshotId ?? `snap-${new Date().toISOString().slice(0, 10)}`
        // Streamed into flat columns, hashed by worker threads into tree.bin in place (10M users < 4 GB).
        const currencies = parseCurrencies(o.currencies)
        const meta = await buildTreeDir(o.input, o.out, { hash: o.hash, snapshotId: id, minDepth, currencies })
        out(
          JSON.stringify({
            snapshotId: id,
            users: meta.userCount,
            depth: meta.depth,
            root: meta.root,
            ms: Date.now() - started,
          }),
        )
      },
    )

  r.command('proof')
    .description("Print one user's inclusion proof (JSON)")
    .requiredOption('--tree <dir>', 'a directory written by cairn reserves build')
    .requiredOption('--user <id>', 'the user id')
    .action((o: { tree: string; user: string }) => {
      out(JSON.stringify(proofFromTreeDir(o.tree, o.user), null, 2)) // reads only the user's line and siblings
    })

  r.command('verify')
    .description('Verify a proof; optionally against a published root or its on-chain anchor')
    .argument('<proof>', 'the proof JSON file')
    .option('--root <hash>', 'the root hash the custodian published')
    .option('--rpc <url>', 'JSON-RPC URL of the chain holding the anchor')
    .option('--registry <address>', 'the ReservesRegistry contract the snapshot was anchored in (with --rpc)')
    .option('--anchor <txHash>', 'a legacy calldata anchor transaction (with --rpc)')
    .action(async (file: string, o: { root?: string; rpc?: string; registry?: string; anchor?: string }) => {
      const proof = readJson(file)
      const res = verifyProof(proof, { ...(o.root ? { expectedRoot: o.root } : {}) })
      if (!res.ok)
        throw new CairnError(ReservesErrorCode.INPUT_INVALID, `the proof does not verify: ${res.reason}`, {
          fault: 'caller',
        })
      const p = proof as ProofV1
      let anchored = ''
      if (o.registry || o.anchor) {
        if (!o.rpc) throw bad('--registry and --anchor need --rpc')
        if (o.registry) {
          const a = await verifyAgainstRegistry(p, o.rpc, o.registry)
          anchored = `, anchored in registry ${o.registry} at ${new Date(a.timestamp * 1000).toISOString()} by ${a.publisher}`
        } else {
          const a = await checkAnchor(o.rpc, o.anchor as string, p)
          if (!a.ok)
            throw new CairnError(ReservesErrorCode.ANCHOR_FAILED, `the proof does not match the anchor: ${a.reason}`, {
              fault: 'caller',
            })
          anchored = `, anchored in block ${a.blockNumber}`
        }
      } else if (o.rpc) throw bad('--rpc needs --registry ADDRESS (or --anchor TXHASH)')
      out(`OK: ${p.userId} is included in snapshot ${p.snapshotId} (root ${p.root.hash}${anchored})`)
      for (const [i, c] of p.currencies.entries())
        out(`  ${c.symbol}: ${p.balances[c.symbol]} of total ${p.root.balances[i]}`)
    })
}
