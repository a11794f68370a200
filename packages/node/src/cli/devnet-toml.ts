import { join } from 'node:path'

/**
 * The JSON-RPC namespaces a devnet's nodes serve: a test network on loopback, inspected with
 * peers, the pool and traces — said in each node's file rather than left to the production
 * default (eth, net, web3, cairn).
 */
export const DEVNET_NAMESPACES = ['eth', 'net', 'web3', 'cairn', 'txpool', 'debug', 'trace', 'ots', 'admin'] as const

/** The head of a devnet node's TOML every engine shares: what it is, engine, genesis, datadir, HTTP and RPC. */
export function devnetTomlHead(n: {
  what: string
  index: number
  count: number
  dir: string
  engine: string
  genesisPath: string
  datadir: string
  httpPort: number
}): string[] {
  return [
    `# devnet ${n.what} ${n.index} of ${n.count}: cairn start --config ${join(n.dir, `node-${n.index}.toml`)}`,
    `engine = "${n.engine}"`,
    `genesis = ${JSON.stringify(n.genesisPath)}`,
    `datadir = ${JSON.stringify(n.datadir)}`,
    '',
    '[http]',
    `addr = "127.0.0.1"`,
    `port = ${n.httpPort}`,
    '',
    '[rpc]',
    `api = [${DEVNET_NAMESPACES.map((x) => JSON.stringify(x)).join(', ')}]`,
    '',
  ]
}
