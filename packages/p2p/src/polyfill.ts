/**
 * libp2p 3 (yamux, ping, @libp2p/utils, it-queue, mortice…) calls `Promise.withResolvers`
 * (ES2024: Node ≥ 22) although no package of it declares an engine. Cairn supports Node 20.19,
 * so this installs the spec's definition when the runtime lacks it. Imported first by the package.
 */
interface WithResolvers {
  withResolvers?: <T>() => {
    promise: Promise<T>
    resolve: (v: T | PromiseLike<T>) => void
    reject: (e?: unknown) => void
  }
}

const P = Promise as unknown as WithResolvers
if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (v: T | PromiseLike<T>) => void
      let reject!: (e?: unknown) => void
      const promise = new this<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}
