// What the service tells listeners (the WebSocket stream): opportunities as they are decided,
// trades as they land, configuration changes. A listener that throws is dropped.

export type ArbEvent =
  | {
      type: 'opportunity'
      id: string
      block: bigint
      cycle: string
      netProfit: bigint
      decision: string
      detail: string | null
    }
  | { type: 'trade'; id: string; tx: string; status: string; token: string; profit: bigint; realized: bigint }
  | { type: 'config'; key: string; version: number; actor: string }

export class EventHub {
  private readonly listeners = new Set<(e: ArbEvent) => void>()

  subscribe(fn: (e: ArbEvent) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  publish = (e: ArbEvent): void => {
    for (const fn of this.listeners) {
      try {
        fn(e)
      } catch {
        this.listeners.delete(fn)
      }
    }
  }

  get size(): number {
    return this.listeners.size
  }
}
