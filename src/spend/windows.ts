/**
 * Calendar windows in a configurable IANA zone: the day, the ISO week from Monday, the
 * month, and `total` (never resets). Only Intl is used for zone arithmetic, never the
 * process's own TZ, so the answer is the same on every machine.
 */
export type WindowKind = 'day' | 'week' | 'month' | 'total'
export const WINDOWS: readonly WindowKind[] = ['day', 'week', 'month', 'total']

/** The clock the spend code reads; tests inject their own. */
export type Clock = () => number

export interface WindowSpan {
  /** First instant of the window, epoch ms (0 for total). */
  start: number
  /** First instant of the next window (Infinity for total). */
  end: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(zone, f)
  }
  return f
}

/**
 * The default zone, UTC, needs no Intl: its first DateTimeFormat costs ~15 ms of start-up
 * (ICU's zone data), and UTC's local time is Date's UTC fields.
 */
const UTC = 'UTC'

/** Whether Intl knows this zone name. */
export function isValidZone(zone: string): boolean {
  if (zone === UTC) return true
  try {
    formatter(zone)
    return true
  } catch {
    return false
  }
}

interface Local {
  y: number
  m: number
  d: number
  h: number
  min: number
  s: number
}

function localParts(t: number, zone: string): Local {
  if (zone === UTC) {
    const u = new Date(t)
    return { y: u.getUTCFullYear(), m: u.getUTCMonth() + 1, d: u.getUTCDate(), h: u.getUTCHours(), min: u.getUTCMinutes(), s: u.getUTCSeconds() }
  }
  const p: Record<string, number> = {}
  for (const part of formatter(zone).formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value)
  return { y: p.year!, m: p.month!, d: p.day!, h: p.hour!, min: p.minute!, s: p.second! }
}

/** The zone's offset from UTC at instant t, in ms (whole seconds). */
function offsetAt(t: number, zone: string): number {
  const l = localParts(t, zone)
  return Date.UTC(l.y, l.m - 1, l.d, l.h, l.min, l.s) - Math.floor(t / 1000) * 1000
}

/**
 * The first instant of local calendar date y-m-d (m 1-based; overflow allowed, e.g. m = 13).
 * Where midnight does not exist (a DST gap at 00:00) it is the first instant that does.
 */
export function startOfLocalDate(y: number, m: number, d: number, zone: string): number {
  const wall = Date.UTC(y, m - 1, d)
  const norm = new Date(wall)
  const want = [norm.getUTCFullYear(), norm.getUTCMonth() + 1, norm.getUTCDate()]
  const candidates = new Set<number>()
  // Every offset the zone has around that date; one of them puts the wall time on the right instant.
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) candidates.add(wall - offsetAt(probe, zone))
  let best = Infinity
  for (const c of candidates) {
    const l = localParts(c, zone)
    const sameDay = l.y === want[0] && l.m === want[1] && l.d === want[2]
    if (sameDay && c < best) best = c
  }
  if (best !== Infinity) {
    // Step back to the day's true first instant if a candidate landed past midnight (DST gap).
    while (true) {
      const prev = best - 60_000
      const l = localParts(prev, zone)
      if (l.y === want[0] && l.m === want[1] && l.d === want[2]) best = prev
      else break
    }
    return best
  }
  return wall - offsetAt(wall, zone)
}

/**
 * The start of the fixed-width bucket (a minute, an hour) that instant t falls in, on the zone's
 * wall clock: an hour in Asia/Kolkata (UTC+5:30) starts at :30 past a UTC hour.
 */
export function localBucketStart(t: number, widthMs: number, zone: string): number {
  const wall = t + offsetAt(t, zone)
  return t - (((wall % widthMs) + widthMs) % widthMs)
}

/** The window of `kind` that instant t falls in. */
export function windowAt(kind: WindowKind, t: number, zone: string): WindowSpan {
  if (kind === 'total') return { start: 0, end: Infinity }
  const l = localParts(t, zone)
  if (kind === 'day') return { start: startOfLocalDate(l.y, l.m, l.d, zone), end: startOfLocalDate(l.y, l.m, l.d + 1, zone) }
  if (kind === 'month') return { start: startOfLocalDate(l.y, l.m, 1, zone), end: startOfLocalDate(l.y, l.m + 1, 1, zone) }
  // ISO week: Monday is day 1. getUTCDay of the local date: 0 = Sunday.
  const dow = new Date(Date.UTC(l.y, l.m - 1, l.d)).getUTCDay()
  const back = (dow + 6) % 7
  return { start: startOfLocalDate(l.y, l.m, l.d - back, zone), end: startOfLocalDate(l.y, l.m, l.d - back + 7, zone) }
}

/** Seconds until the window resets, rounded up (for retry-after); undefined for total. */
export function secondsUntil(end: number, now: number): number | undefined {
  return Number.isFinite(end) ? Math.max(1, Math.ceil((end - now) / 1000)) : undefined
}
