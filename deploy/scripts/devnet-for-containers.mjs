#!/usr/bin/env node
// Turns a devnet written by `cairn devnet init` (one machine: 127.0.0.1, a port per node) into
// one for containers: every node listens on 0.0.0.0 on the same ports, and its peers are named by
// DNS (`/dns4/<host>/tcp/<p2p port>/p2p/<id>`, the host from --host with {i} for the node's number,
// {k} for i − 1: a compose service `validator-{i}`, a StatefulSet pod `cairn-validator-{k}.cairn-validators`).
// Also writes DIR/bootnodes: every validator's multiaddr, comma-separated (a follower's
// CAIRN_P2P_BOOTNODES_FILE). No dependency: runs with plain `node` (in the image, or on the host).
//
//   node devnet-for-containers.mjs --dir DIR --host 'validator-{i}' [--rpc-port 8545] [--p2p-port 30303]
//     [--metrics-port 9100] [--genesis PATH] [--datadir PATH]
// --genesis / --datadir: the paths the nodes see (Kubernetes: /etc/cairn/genesis.json and /data);
// by default the files stay where they are (compose mounts the devnet volume at the same path).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    host: { type: 'string' },
    'rpc-port': { type: 'string', default: '8545' },
    'p2p-port': { type: 'string', default: '30303' },
    'metrics-port': { type: 'string', default: '9100' },
    genesis: { type: 'string' },
    datadir: { type: 'string' },
  },
})
if (!values.dir || !values.host) {
  process.stderr.write("error: --dir DIR and --host TEMPLATE are required (e.g. --host 'validator-{i}')\n")
  process.exit(2)
}
const dir = resolve(values.dir)
const files = readdirSync(dir)
  .filter((f) => /^node-\d+\.toml$/.test(f))
  .sort((a, b) => Number(a.slice(5, -5)) - Number(b.slice(5, -5)))
if (files.length === 0) {
  process.stderr.write(`error: ${dir} holds no devnet (run cairn devnet init --validators 4 --dir ${values.dir} first)\n`)
  process.exit(2)
}
const text = Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
// node i's p2p port on one machine, and its peer id (from the bootnodes the other nodes list)
const portOf = (t) => /\[p2p\][^[]*?\nport = (\d+)/.exec(t)?.[1]
const idByPort = new Map()
for (const t of Object.values(text))
  for (const m of t.matchAll(/\/ip4\/[^/]+\/tcp\/(\d+)\/p2p\/([A-Za-z0-9]+)/g)) idByPort.set(m[1], m[2])
const host = (i) => values.host.replaceAll('{i}', String(i)).replaceAll('{k}', String(i - 1))
const multiaddrs = files.map((f, k) => {
  const id = idByPort.get(portOf(text[f]))
  if (!id) throw new Error(`no peer id found for ${f}`)
  return `/dns4/${host(k + 1)}/tcp/${values['p2p-port']}/p2p/${id}`
})
for (const [k, f] of files.entries()) {
  let t = text[f]
  t = t.replace(/^\[http\]\naddr = "[^"]*"\nport = \d+/m, `[http]\naddr = "0.0.0.0"\nport = ${values['rpc-port']}`)
  t = t.replace(/^\[p2p\]([^[]*?)\naddr = "[^"]*"\nport = \d+/m, `[p2p]$1\naddr = "0.0.0.0"\nport = ${values['p2p-port']}`)
  t = t.replace(/^bootnodes = \[.*\]$/m, `bootnodes = [${multiaddrs.filter((_, j) => j !== k).map((m) => JSON.stringify(m)).join(', ')}]`)
  if (values.genesis) t = t.replace(/^genesis = .*$/m, `genesis = ${JSON.stringify(values.genesis)}`)
  if (values.datadir) t = t.replace(/^datadir = .*$/m, `datadir = ${JSON.stringify(values.datadir)}`)
  // RPC on every interface without auth: a test network's setting (the prod profile refuses it).
  // /metrics, /health and /ready also on their own port, for Prometheus and the probes.
  t = t.replace(/^(# devnet node .*\n)/, `$1profile = "test"\n`)
  if (!/^\[metrics\]/m.test(t)) t += `\n[metrics]\nhost = "0.0.0.0"\nport = ${values['metrics-port']}\n`
  writeFileSync(join(dir, f), t)
}
writeFileSync(join(dir, 'bootnodes'), multiaddrs.join(','))
process.stdout.write(`${files.length} nodes in ${dir} rewritten for containers; bootnodes:\n${multiaddrs.join('\n')}\n`)
