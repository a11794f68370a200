// The open /v1/stream sockets of this instance and who holds them: an event from any instance (the
// event bus) goes to every staff stream, and to a user's when it concerns them.
import type { Principal } from '../../kernel/auth.ts'
import type { ReservesEvent } from '../../kernel/events.ts'
import type { SnapshotStore } from '../../kernel/store.ts'

export interface StreamEntry {
  send(data: string): void
  principal: Principal
}

export interface StreamHub {
  /** The open streams (the route adds and removes them). */
  streams: Set<StreamEntry>
  /** Sends what streams are told of `e`: a snapshot built (and, to its users, "your proof is available"), anchored or failed. */
  onEvent(e: ReservesEvent): void
}

export function createStreamHub(store: SnapshotStore): StreamHub {
  const streams = new Set<StreamEntry>()
  /** Sends an event to this instance's staff streams, and to a user's when `forUser` says it concerns them. */
  const toStreams = (event: Record<string, unknown>, forUser: (sub: string) => boolean | Promise<boolean>) => {
    const text = JSON.stringify(event)
    for (const s of streams) {
      if (s.principal.role !== 'user') s.send(text)
      else
        void Promise.resolve(forUser(s.principal.sub)).then(
          (yes) => yes && s.send(text),
          () => {},
        )
    }
  }
  return {
    streams,
    onEvent: (e) => {
      if (e.type === 'snapshot.built' && typeof e.id === 'string') {
        const id = e.id
        toStreams({ type: 'snapshot.built', id, root: e.root }, () => true)
        toStreams({ type: 'proof.available', id }, (sub) => store.hasUser(id, sub))
        return
      }
      if (e.type === 'snapshot.anchored') toStreams(e, () => true)
      if (e.type === 'snapshot.failed') toStreams(e, () => false)
    },
  }
}
