/**
 * A growable FIFO on a power-of-two circular array: O(1) push and shift at any size, where
 * `Array#shift` turns O(n) past ~16k entries (the main reason common pools slow down with many waiters).
 */
export class RingBuffer<T> {
  #items: (T | undefined)[]
  #head = 0
  #length = 0
  #mask: number

  constructor(initialCapacity = 16) {
    let capacity = 16
    while (capacity < initialCapacity) capacity *= 2
    this.#items = new Array(capacity)
    this.#mask = capacity - 1
  }

  get length(): number {
    return this.#length
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow()
    this.#items[(this.#head + this.#length) & this.#mask] = item
    this.#length++
  }

  /** Put an item at the front (used to give a retried task its turn back). */
  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow()
    this.#head = (this.#head - 1) & this.#mask
    this.#items[this.#head] = item
    this.#length++
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & this.#mask
    this.#length--
    if (this.#length === 0) this.#head = 0
    return item
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head]
  }

  /** Remove every item and return them in FIFO order. */
  drain(): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }

  #grow(): void {
    const old = this.#items
    const next: (T | undefined)[] = new Array(old.length * 2)
    for (let i = 0; i < this.#length; i++) next[i] = old[(this.#head + i) & this.#mask]
    this.#items = next
    this.#head = 0
    this.#mask = next.length - 1
  }
}
