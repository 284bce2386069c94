/**
 * The simulator's world: one virtual clock and one queue of events for every node, disk,
 * packet and agent (STYLE.md §6, after TigerBeetle's VOPR). Nothing real waits: an event
 * runs, the promise continuations it released run to completion (one setImmediate drains
 * them, since no real I/O is pending), then the next event runs. The order of events is a
 * pure function of the seed, so a run is reproduced by its seed alone.
 *
 * A process (a node daemon) owns its events: when it dies they are dropped, so none of its
 * code runs again; while it is paused (SIGSTOP) they are held and run, in order, when it
 * resumes (overdue timers fire at once, queued packets arrive, as after a real SIGCONT).
 */
import type { Cancel } from '../../src/runtime/platform.js'

export interface SimProcess {
  readonly name: string
  alive: boolean
  paused: boolean
  held: Queued[]
}

interface Queued { at: number; seq: number; process: SimProcess | null; fn: () => void; cancelled: boolean }

/** Events run before the run is declared stuck (a timer loop of zero delay, say). */
const EVENTS_MAX = 50_000_000

export class World {
  nowMs = 0
  private seq = 0
  private readonly heap: Queued[] = []
  private eventsRun = 0
  /** Errors thrown by event handlers: a simulation bug or a product bug, never ignored. */
  readonly errors: { atMs: number; error: unknown }[] = []

  get events(): number { return this.eventsRun }

  /** Runs `fn` at virtual time `atMs` (not before now), as `process` (null: the world itself). */
  at(atMs: number, process: SimProcess | null, fn: () => void): Cancel {
    const event: Queued = { at: Math.max(atMs, this.nowMs), seq: this.seq++, process, fn, cancelled: false }
    this.push(event)
    return () => { event.cancelled = true }
  }

  after(ms: number, process: SimProcess | null, fn: () => void): Cancel {
    return this.at(this.nowMs + ms, process, fn)
  }

  /** A paused process's held events run now, in the order they were due. */
  resume(process: SimProcess): void {
    process.paused = false
    const held = process.held.splice(0)
    for (const event of held) this.push({ ...event, at: this.nowMs, seq: this.seq++ })
  }

  /** Runs every event due up to `untilMs`, then sets the clock to it. */
  async runUntil(untilMs: number): Promise<void> {
    // What the caller started before this call (a daemon's start) first reaches its first event.
    await drain()
    for (;;) {
      const next = this.heap[0]
      if (next === undefined || next.at > untilMs) break
      this.pop()
      if (next.cancelled || (next.process !== null && !next.process.alive)) continue
      if (next.process?.paused === true) { next.process.held.push(next); continue }
      this.nowMs = next.at
      try {
        next.fn()
      } catch (error) {
        this.errors.push({ atMs: this.nowMs, error })
      }
      await drain()
      if (++this.eventsRun > EVENTS_MAX) throw new Error(`simulation ran ${EVENTS_MAX} events without reaching ${untilMs} ms: a timer loop?`)
    }
    this.nowMs = Math.max(this.nowMs, untilMs)
  }

  private push(event: Queued): void {
    const heap = this.heap
    heap.push(event)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  private pop(): void {
    const heap = this.heap
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) return
      ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
      i = smallest
    }
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** Every promise continuation released by the last event runs before this resolves. */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Runs `fn` as `process` now if it runs, when it resumes if it is paused, never if it died. */
export function toProcess(world: World, process: SimProcess, fn: () => void): void {
  if (process.alive && !process.paused) fn()
  else world.at(world.nowMs, process, fn)
}
