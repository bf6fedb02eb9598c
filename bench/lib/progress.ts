/** Progress on stderr: one rewritten line on a terminal, one line per step otherwise. */
export class Progress {
  readonly #total: number
  #done = 0
  readonly #tty = process.stderr.isTTY === true

  constructor(total: number) {
    this.#total = total
  }

  /** Shows that `label` has started. */
  start(label: string): void {
    const text = `[${this.#done + 1}/${this.#total}] ${label} ...`
    if (this.#tty) process.stderr.write(`\r\x1b[2K${text}`)
    else process.stderr.write(`${text}\n`)
  }

  /** Marks one step done. */
  step(): void {
    this.#done++
    if (this.#tty) process.stderr.write('\r\x1b[2K')
  }
}
