// The NATS JetStream the NATS tests use (127.0.0.1:4222), or why it is not there: each test file
// skips with that reason (as `postgresUnavailable` for PostgreSQL).
import { connect, type NatsConnection } from 'nats'

export const NATS = 'nats://127.0.0.1:4222'

/** A connection with JetStream answering, or `down` saying why not (no connection left open then). */
export async function connectJetStream(): Promise<{ nc: NatsConnection; down: null } | { nc: null; down: string }> {
  let nc: NatsConnection | null = null
  try {
    nc = await connect({ servers: NATS, timeout: 2000, maxReconnectAttempts: 0 })
    await (await nc.jetstreamManager()).getAccountInfo()
    return { nc, down: null }
  } catch (err) {
    await nc?.close()
    return { nc: null, down: (err as Error).message }
  }
}
