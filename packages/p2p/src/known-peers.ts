// The persisted part of the peer store: the peers this node dialled, written at shutdown to
// `<dir>/peers.json` and dialled again at the next start (given up after a few failed tries).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '@cairn/utils'
import type { Connection } from '@libp2p/interface'

/** Most peers read back from the last run. */
const MAX_KNOWN_PEERS = 64

/** The addresses saved by the last run (none without a directory or a readable file). */
export function readKnownPeers(dir: string | null): string[] {
  if (!dir) return []
  try {
    const list = JSON.parse(readFileSync(join(dir, 'peers.json'), 'utf8')) as unknown
    return Array.isArray(list) ? list.filter((a): a is string => typeof a === 'string').slice(0, MAX_KNOWN_PEERS) : []
  } catch {
    return []
  }
}

/** Saves the addresses (with peer ids) of the outbound connections in `connections`. */
export function saveKnownPeers(dir: string | null, connections: readonly Connection[], logger: Logger): void {
  if (!dir) return
  const addrs = new Set<string>()
  for (const c of connections) {
    if (c.direction === 'outbound')
      addrs.add(`${c.remoteAddr.toString()}/p2p/${c.remotePeer.toString()}`.replace(/\/p2p\/[^/]+\/p2p\//, '/p2p/'))
  }
  try {
    writeFileSync(join(dir, 'peers.json'), JSON.stringify([...addrs]), { mode: 0o600 })
  } catch (err) {
    logger.warn({ err }, 'cannot save known peers')
  }
}
