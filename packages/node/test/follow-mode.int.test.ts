// What `--follow` leaves out of a dev node: state preimages (anvil_dumpState and --dump-state read
// them, and a follower serves neither), recorded by every state write of every synced block.
import { silentLogger } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.ts'
import { type StartedNode, startNode } from '../src/node.ts'
import { rpc } from './cli/run-cli.ts'

const BASE = { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1' }

describe('a dev follower', () => {
  let node: StartedNode | undefined
  afterEach(async () => {
    await node?.close()
    node = undefined
  })

  it('records no state preimages, and serves no anvil_dumpState', async () => {
    const config = loadConfig({
      flags: { ...BASE, follow: true, 'p2p.port': 0, 'p2p.addr': '127.0.0.1', 'p2p.dht': false },
      env: {},
    })
    node = await startNode(config, { logger: silentLogger })
    expect(await node.chain.readPreimages()).toBeUndefined()
    await expect(rpc(node.url, 'anvil_dumpState', [])).rejects.toThrow(
      /not (found|available|supported)|does not exist/i,
    )
  })

  it('a dev producer records them (its anvil_dumpState lists what it wrote)', async () => {
    node = await startNode(loadConfig({ flags: BASE, env: {} }), { logger: silentLogger })
    expect(await node.chain.readPreimages()).toBeDefined()
  })
})
