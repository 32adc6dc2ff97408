/**
 * Finding the rows a database refuses, after a batch write failed on a row's fault
 * (src/db/write-errors.ts): the rows are written in halves, in order, each half that succeeds
 * committed, each that fails on a row's fault split again, down to single rows, which are
 * dropped. A failure of any other kind (the database went away meanwhile) halts at once, and
 * every row not yet written stays for the next write, in order. For one bad row among n this
 * takes about 2·log2(n) writes.
 */
import type { DroppedRow, WriteBatch } from './types'
import { classifyWriteError, describeWriteError } from './write-errors'

export interface Isolation {
  written: number
  dropped: DroppedRow[]
  /** Rows neither written nor dropped (after a halt), regrouped by table in their order. */
  rest: WriteBatch[]
  /** The error that halted it (not a row's fault); undefined when every row was settled. */
  halt?: unknown
}

/** One row of one table: the unit isolation works on. */
interface Unit {
  of: WriteBatch
  row: unknown[]
}

/** Consecutive units of one table back into batches. */
function regroup(units: Unit[]): WriteBatch[] {
  const out: WriteBatch[] = []
  let last: WriteBatch | undefined
  let from: WriteBatch | undefined
  for (const u of units) {
    if (u.of !== from) {
      from = u.of
      out.push((last = { ...u.of, rows: [] }))
    }
    last!.rows.push(u.row)
  }
  return out
}

class Halt {
  constructor(readonly error: unknown) {}
}

interface Progress {
  written: number
  dropped: DroppedRow[]
  /** The first unit not yet written or dropped. */
  next: number
}

async function split(units: Unit[], lo: number, hi: number, out: Progress, known: unknown, write: (b: WriteBatch[]) => Promise<void>): Promise<void> {
  if (known === undefined) {
    try {
      await write(regroup(units.slice(lo, hi)))
      out.written += hi - lo
      out.next = hi
      return
    } catch (e) {
      if (classifyWriteError(e) !== 'row') throw new Halt(e)
      known = e
    }
  }
  if (hi - lo === 1) {
    const u = units[lo]!
    out.dropped.push({ table: u.of.table, columns: u.of.columns, row: u.row, error: describeWriteError(known) })
    out.next = hi
    return
  }
  const mid = lo + Math.ceil((hi - lo) / 2)
  await split(units, lo, mid, out, undefined, write)
  await split(units, mid, hi, out, undefined, write)
}

/** `batches` failed with `failure`, a row's fault: settles every row it can with `write`. */
export async function isolate(batches: WriteBatch[], write: (b: WriteBatch[]) => Promise<void>, failure: unknown): Promise<Isolation> {
  const units: Unit[] = []
  for (const b of batches) for (const row of b.rows) units.push({ of: b, row })
  const out: Progress = { written: 0, dropped: [], next: 0 }
  let halt: unknown
  try {
    await split(units, 0, units.length, out, failure, write)
  } catch (h) {
    if (!(h instanceof Halt)) throw h
    halt = h.error
  }
  return { written: out.written, dropped: out.dropped, rest: regroup(units.slice(out.next)), halt }
}
