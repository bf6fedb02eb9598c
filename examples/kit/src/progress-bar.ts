/**
 * A one-line progress bar on stderr (rewritten in place on a terminal, one line per 10% otherwise).
 *
 * @example
 * const bar = new ProgressBar(20_000)
 * bar.update(elapsed, `${count} req`)
 * bar.done()
 */
export class ProgressBar {
  readonly #total: number
  readonly #tty = process.stderr.isTTY === true
  #lastDecile = -1

  constructor(total: number) {
    this.#total = total
  }

  update(done: number, detail: string): void {
    const ratio = Math.min(1, done / this.#total)
    const width = 30
    const filled = Math.round(ratio * width)
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${detail}`
    if (this.#tty) {
      process.stderr.write(`\r\x1b[2K${line}`)
      return
    }
    const decile = Math.floor(ratio * 10)
    if (decile !== this.#lastDecile) {
      this.#lastDecile = decile
      process.stderr.write(`${line}\n`)
    }
  }

  done(): void {
    if (this.#tty) process.stderr.write('\n')
  }
}
