/**
 * The idle wait of a polling loop (a worker that looks for work every `pollMs` and is woken when
 * its own process records some): `sleep(ms)` resolves after `ms`, or at once when `wake()` was
 * called since the last sleep ended (work recorded while the loop was busy is not missed), or as
 * soon as `wake()` is called during it. A loop that stops sets its flag, then wakes it.
 */
export class WakeableSleep {
  #pending = false
  #end: (() => void) | null = null

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#end?.(), ms)
      this.#end = () => {
        clearTimeout(timer)
        this.#end = null
        resolve()
      }
    })
  }

  wake(): void {
    if (this.#end) this.#end()
    else this.#pending = true
  }
}
