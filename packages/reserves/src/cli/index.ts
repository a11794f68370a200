import { readFileSync } from 'node:fs'
import { initCrypto } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { anchorRoot, checkAnchor } from '../anchor/anchor.ts'
import { ReservesErrorCode } from '../errors.ts'
import { readSnapshotFile } from '../input/read.ts'
import { signToken } from '../service/auth.ts'
import { buildTree, checkTotals } from '../tree/build.ts'
import { proofFor } from '../tree/proof.ts'
import type { ProofV1 } from '../verifier/proof.ts'
import { verifyProof } from '../verifier/verify.ts'
import { registerServe } from './serve.ts'
import { readTreeDir, writeTreeDir } from './tree-dir.ts'

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

/** Registers `cairn reserves …` (build, proof, verify, anchor, token, serve, audit) on a commander program. */
export function registerReserves(program: Command): void {
  const r = program
    .command('reserves')
    .description('Proof of liabilities: build Merkle sum trees, issue and verify proofs')

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
        const snap = await readSnapshotFile(o.input, parseCurrencies(o.currencies))
        checkTotals(snap.entries, snap.currencies.length, minDepth)
        const tree = buildTree(snap.entries, { hash: o.hash, currencies: snap.currencies, minDepth })
        const id = o.snapshotId ?? `snap-${new Date().toISOString().slice(0, 10)}`
        const meta = writeTreeDir(o.out, id, tree)
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
      const { meta, tree } = readTreeDir(o.tree)
      out(JSON.stringify(proofFor(tree, meta.snapshotId, o.user), null, 2))
    })

  r.command('verify')
    .description('Verify a proof; optionally against a published root or an on-chain anchor')
    .argument('<proof>', 'the proof JSON file')
    .option('--root <hash>', 'the root hash the custodian published')
    .option('--rpc <url>', 'JSON-RPC URL of the chain holding the anchor')
    .option('--anchor <txHash>', 'the anchor transaction (with --rpc)')
    .action(async (file: string, o: { root?: string; rpc?: string; anchor?: string }) => {
      const proof = readJson(file)
      const res = verifyProof(proof, { ...(o.root ? { expectedRoot: o.root } : {}) })
      if (!res.ok)
        throw new CairnError(ReservesErrorCode.INPUT_INVALID, `the proof does not verify: ${res.reason}`, {
          fault: 'caller',
        })
      const p = proof as ProofV1
      let anchored = ''
      if (o.rpc || o.anchor) {
        if (!o.rpc || !o.anchor) throw bad('--rpc and --anchor go together')
        const a = await checkAnchor(o.rpc, o.anchor, p)
        if (!a.ok)
          throw new CairnError(ReservesErrorCode.ANCHOR_FAILED, `the proof does not match the anchor: ${a.reason}`, {
            fault: 'caller',
          })
        anchored = `, anchored in block ${a.blockNumber}`
      }
      out(`OK: ${p.userId} is included in snapshot ${p.snapshotId} (root ${p.root.hash}${anchored})`)
      for (const [i, c] of p.currencies.entries())
        out(`  ${c.symbol}: ${p.balances[c.symbol]} of total ${p.root.balances[i]}`)
    })

  r.command('anchor')
    .description("Publish a tree's root on an EVM chain (0-value transaction with the root in calldata)")
    .requiredOption('--tree <dir>', 'a directory written by cairn reserves build')
    .requiredOption('--rpc <url>', 'JSON-RPC URL')
    .requiredOption('--from <address>', 'an account the node signs for (eth_sendTransaction)')
    .action(async (o: { tree: string; rpc: string; from: string }) => {
      const meta = JSON.parse(readFileSync(`${o.tree}/snapshot.json`, 'utf8'))
      const rec = await anchorRoot(o.rpc, o.from, {
        v: 1,
        snapshotId: meta.snapshotId,
        hash: meta.hash,
        currencies: meta.currencies,
        root: meta.root,
      })
      out(JSON.stringify(rec))
    })

  r.command('token')
    .description('Mint an HS256 JWT for the service')
    .requiredOption('--role <role>', 'admin, auditor or user')
    .requiredOption('--sub <sub>', 'subject (the user id for role user)')
    .requiredOption('--secret-file <file>', 'the HS256 secret the service uses')
    .option('--ttl <seconds>', 'lifetime', '3600')
    .action((o: { role: string; sub: string; secretFile: string; ttl: string }) => {
      if (!['admin', 'auditor', 'user'].includes(o.role))
        throw bad(`unknown role ${o.role}`, 'use admin, auditor or user')
      const secret = new Uint8Array(readFileSync(o.secretFile))
      out(signToken(secret, { sub: o.sub, role: o.role as 'admin', ttlSeconds: Number(o.ttl) }))
    })

  registerServe(r)
}
