import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import { type DB, ValueEncoding } from '@ethereumjs/util'
import { installFork, type RemoteTrie } from './remote-trie.ts'

/** A MerkleStateManager over the persistent trie, rooted at `root` (hooked to fetch from a fork's remote). */
export function newStateManager<M extends MerkleStateManager = MerkleStateManager>(
  common: Common,
  db: DB<string, string | Uint8Array>,
  root: Uint8Array | undefined,
  caches: Caches = new Caches(),
  make: (opts: MerkleStateManagerOpts) => M = (o) => new MerkleStateManager(o) as M,
): M {
  const trie = new MerklePatriciaTrie({
    db,
    ...(root ? { root } : {}),
    useKeyHashing: true,
    valueEncoding: ValueEncoding.Bytes,
    common,
  })
  const sm = make({ trie, common, caches })
  // Fork mode: the store's trie is the remote's, filled in before each walk (src/fork/).
  const remote = (db as { remote?: RemoteTrie }).remote
  return remote ? installFork(sm, remote) : sm
}
