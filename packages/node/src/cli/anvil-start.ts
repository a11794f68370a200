import { renameSync, writeFileSync } from 'node:fs'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { NodeConfig } from '../config/schema.ts'
import type { StartedNode } from '../node.ts'
import { dumpStateFile } from '../state-file.ts'

/**
 * Anvil's `--config-out FILE`: the dev accounts and keys and the chain's settings, as Anvil 1.7.1
 * writes them (`available_accounts`, `private_keys`, `wallet`, `base_fee`, `gas_price`,
 * `gas_limit`, `genesis_timestamp`), for scripts that read the keys from there. Written whole
 * (a temporary file renamed), mode 0600: it holds private keys.
 */
export function writeConfigOut(file: string, node: Pick<StartedNode, 'accounts' | 'chain'>, config: NodeConfig): void {
  const genesis = node.chain.genesisBlock.header
  const out = {
    available_accounts: node.accounts.map((a) => a.address.toLowerCase()),
    private_keys: node.accounts.map((a) => bytesToHex(a.privateKey)),
    wallet: { mnemonic: config.dev_accounts.mnemonic, derivation_path: `${config.dev_accounts.derivationPath}/` },
    base_fee: String(genesis.baseFeePerGas ?? 0n),
    gas_price: String(node.chain.head.header.baseFeePerGas ?? 0n),
    gas_limit: config.devChain.disableBlockGasLimit ? null : String(genesis.gasLimit),
    genesis_timestamp: String(genesis.timestamp),
  }
  const tmp = `${file}.tmp`
  writeFileSync(tmp, `${JSON.stringify(out)}\n`, { mode: 0o600 })
  renameSync(tmp, file)
}

/**
 * Anvil's `--state-interval N`: the state written to `file` every N seconds (whole, by rename) as
 * well as on a clean stop. Returns the stop. A failed write is logged and the next one tried.
 */
export function dumpStateEvery(
  seconds: number,
  file: string,
  node: Pick<StartedNode, 'chain'>,
  logger: Logger,
): () => void {
  let writing = false
  const timer = setInterval(() => {
    if (writing) return
    writing = true
    dumpStateFile(file, node.chain)
      .catch((err: Error) => logger.warn({ file, err: err.message }, 'state file not written (next interval retries)'))
      .finally(() => {
        writing = false
      })
  }, seconds * 1000)
  timer.unref()
  return () => clearInterval(timer)
}

/** The block of a newHead event, as far as tracing reads it. */
type HeadBlock = { transactions: readonly { hash(): Uint8Array }[] }

interface CallFrame {
  type: string
  from: string
  to?: string
  value?: string
  gas?: string
  gasUsed?: string
  input?: string
  output?: string
  error?: string
  revertReason?: string
  calls?: CallFrame[]
}

/**
 * Anvil's `--print-traces`: each mined transaction's call tree on stdout (from
 * `debug_traceTransaction` with the callTracer, as a client would ask for it), in Anvil's shape:
 * `[gas] to::selector(args){value}` per frame, `← [Return]`/`← [Revert]` under it. Returns the stop.
 */
export function printTraces(
  node: Pick<StartedNode, 'chain' | 'dispatcher'>,
  write: (text: string) => void,
  logger: Logger,
): () => void {
  let queue: Promise<void> = Promise.resolve()
  const onHead = ({ block }: { block: HeadBlock }) => {
    queue = queue
      .then(() => printBlock(block))
      .catch((err: Error) => logger.warn({ err: err.message }, 'trace not printed'))
  }
  const printBlock = async (block: HeadBlock) => {
    for (const tx of block.transactions) {
      const hash = bytesToHex(tx.hash())
      const answer = JSON.parse(
        (await node.dispatcher.handleText(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'debug_traceTransaction',
            params: [hash, { tracer: 'callTracer' }],
          }),
        )) ?? '{}',
      ) as { result?: CallFrame; error?: { message: string } }
      if (!answer.result) {
        write(`Transaction: ${hash}\n  (no trace: ${answer.error?.message ?? 'unknown'})\n\n`)
        continue
      }
      write(
        `Transaction: ${hash}\nGas used: ${BigInt(answer.result.gasUsed ?? '0x0')}\n\nTraces:\n${renderFrame(answer.result, '  ')}\n`,
      )
    }
  }
  node.chain.events.on('newHead', onHead)
  return () => node.chain.events.off('newHead', onHead)
}

/** One frame and its calls as Anvil draws them (exported for its test). */
export function renderFrame(f: CallFrame, indent: string): string {
  const gas = BigInt(f.gasUsed ?? '0x0')
  const value = f.value && BigInt(f.value) > 0n ? `{value: ${BigInt(f.value)}}` : ''
  const input = f.input ?? '0x'
  const head =
    f.type === 'CREATE' || f.type === 'CREATE2'
      ? `→ new <unknown>@${f.to ?? '?'}${value}`
      : `${f.to ?? '?'}::${input.length >= 10 ? input.slice(0, 10) : 'fallback'}${value}(${input.length > 10 ? `0x${input.slice(10)}` : ''})`
  const kind = f.type === 'STATICCALL' ? ' [staticcall]' : f.type === 'DELEGATECALL' ? ' [delegatecall]' : ''
  let out = `${indent}[${gas}] ${head}${kind}\n`
  for (const c of f.calls ?? []) out += renderFrame(c, `${indent}    `)
  const end = f.error
    ? `← [Revert] ${f.revertReason ?? f.error}`
    : `← [${f.type.startsWith('CREATE') ? 'Return' : 'Stop'}] ${f.output && f.output !== '0x' ? f.output : ''}`
  out += `${indent}  └─ ${end.trimEnd()}\n`
  return out
}
