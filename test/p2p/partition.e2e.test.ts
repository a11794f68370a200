// A network partition between real `cairn` processes, each on its own host (a Linux network
// namespace, test/p2p/netns.ts): a dev producer and three followers converge; two followers are
// cut off (their links moved to another bridge: they keep each other, lose the producer and the
// first follower) while the producer goes on; the first follower keeps up, the two cut off stay
// where the partition found them; healed, they catch up to the producer's head. Skipped with the
// reason where namespaces cannot be made (not root).
import { afterAll, describe, expect, it } from 'vitest'
import { type CairnProcess, call, headOf, waitFor } from '../../packages/node/test/cli/cluster.ts'
import { NetLab, netnsUnavailable } from './netns.ts'

const unavailable = netnsUnavailable()
let lab: NetLab | null = null
afterAll(async () => {
  await lab?.destroy()
})

describe.skipIf(unavailable !== null)(
  `p2p partition between hosts${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('followers cut off by a partition stay behind while it lasts and catch up once it heals', {
      timeout: 180_000,
    }, async () => {
      lab = new NetLab()
      const [hp, h1, h2, h3] = [lab.addHost(), lab.addHost(), lab.addHost(), lab.addHost()]
      if (!hp || !h1 || !h2 || !h3) throw new Error('no hosts')
      const producer = await lab.start(hp, ['--dev', '--ephemeral', '--p2p.enabled'])
      await call(producer.url, 'anvil_mine', ['0x14'])
      const follow = ['--dev', '--ephemeral', '--follow', '--p2p.bootnodes', producer.addr]
      const followers = await Promise.all([lab.start(h1, follow), lab.start(h2, follow), lab.start(h3, follow)])
      const [f1, f2, f3] = followers as [CairnProcess, CairnProcess, CairnProcess]
      const atHead = async (f: CairnProcess) => (await headOf(f.url)).hash === (await headOf(producer.url)).hash
      for (const f of followers) await waitFor(() => atHead(f), 'a follower at the producer head', 60_000)
      const before = await headOf(producer.url)
      expect(before.number).toBe(20)

      lab.partition([h2, h3])
      await call(producer.url, 'anvil_mine', ['0x1e'])
      const during = await headOf(producer.url)
      expect(during.number).toBe(50)
      // the follower on the producer's side keeps up: the blocks were gossiped while the others were cut off
      await waitFor(() => atHead(f1), 'f1 at the producer head during the partition', 60_000)
      for (const f of [f2, f3]) expect(await headOf(f.url)).toEqual(before)

      lab.heal()
      // one more block after the heal: its gossip (or the status exchange of a new connection) shows
      // the cut-off followers how far behind they are
      await call(producer.url, 'anvil_mine', ['0x1'])
      const after = await headOf(producer.url)
      for (const f of [f2, f3])
        await waitFor(() => atHead(f), 'a cut-off follower at the producer head after the heal', 90_000)
      for (const f of followers) {
        const b = await call<{ hash: string }>(f.url, 'eth_getBlockByNumber', ['0x23', false])
        expect(b.hash).toBe((await call<{ hash: string }>(producer.url, 'eth_getBlockByNumber', ['0x23', false])).hash)
      }
      expect(after.number).toBe(51)
    })
  },
)
