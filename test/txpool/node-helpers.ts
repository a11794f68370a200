// A real Cairn dev node started in-process (the composition root of packages/node) on a free port.
import { silentLogger } from '@cairn/utils'
import { loadConfig } from '../../packages/node/src/config/load.ts'
import { type StartedNode, startNode } from '../../packages/node/src/node.ts'

export type { StartedNode }

/**
 * `cairn start --dev --http.port 0` with `--datadir dir` (or `--ephemeral`). `blockTime` 3600 keeps
 * transactions in the pool until the test mines with evm_mine.
 */
export async function startDev(opts: { datadir?: string; blockTime?: number } = {}): Promise<StartedNode> {
  const config = loadConfig({
    flags: {
      dev: true,
      ...(opts.datadir ? { datadir: opts.datadir } : { ephemeral: true }),
      'http.port': 0,
      'http.addr': '127.0.0.1',
      'log.level': 'silent',
      ...(opts.blockTime ? { blockTime: opts.blockTime } : {}),
    },
    env: {},
  })
  return startNode(config, { logger: silentLogger })
}

let nextId = 1

/** One JSON-RPC call over HTTP; returns `{ result }` or `{ error }`. */
export async function rpc(
  url: string,
  method: string,
  params: unknown[] = [],
): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  })
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } }
}
