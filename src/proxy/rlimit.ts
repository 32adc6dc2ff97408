/**
 * The open-files limit. Every relayed stream holds two descriptors (client and upstream), so a
 * soft limit of 1,024 would cap the gateway near 500 streams. At start the soft limit is raised
 * to the hard limit, as an unprivileged process may. Bun has no setrlimit, so this calls libc's
 * through bun:ffi (a spawned `prlimit` would cost start-up time and need the binary present).
 * Off Linux/macOS, or when libc cannot be loaded, the limits are reported as unknown.
 */
import { dlopen, FFIType, ptr } from 'bun:ffi'

export interface OpenFilesLimit {
  soft: number
  hard: number
  /** The soft limit before start-up raised it. */
  was: number
}

const RLIMIT_NOFILE = process.platform === 'darwin' ? 8 : 7
const LIBC = process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6'

type Libc = { getrlimit(resource: number, p: number): number; setrlimit(resource: number, p: number): number }

let libc: Libc | null | undefined

function load(): Libc | null {
  if (libc !== undefined) return libc
  try {
    const lib = dlopen(LIBC, {
      getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
      setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    })
    libc = lib.symbols as unknown as Libc
  } catch {
    libc = null
  }
  return libc
}

/** Reads the open-files limit, or undefined where it cannot be read. */
export function openFilesLimit(): { soft: number; hard: number } | undefined {
  const c = load()
  if (!c) return undefined
  const buf = new BigUint64Array(2)
  if (c.getrlimit(RLIMIT_NOFILE, ptr(buf) as unknown as number) !== 0) return undefined
  return { soft: asNumber(buf[0]!), hard: asNumber(buf[1]!) }
}

let raised: OpenFilesLimit | undefined

/** What start-up raised (or read, when nothing was raised yet). */
export function startupOpenFiles(): OpenFilesLimit | undefined {
  if (raised) return raised
  const now = openFilesLimit()
  return now && { ...now, was: now.soft }
}

/**
 * Raises the soft open-files limit to the hard limit (capped where the kernel refuses more).
 * Bun's runtime already does so for itself on Linux (checked: a shell soft limit of 1,024 shows
 * as 20,000 inside Bun), so this mostly confirms it; it costs ~1 ms.
 */
export function raiseOpenFilesLimit(): OpenFilesLimit | undefined {
  raised = raise()
  return raised
}

function raise(): OpenFilesLimit | undefined {
  const now = openFilesLimit()
  const c = load()
  if (!now || !c) return undefined
  if (now.soft >= now.hard) return { ...now, was: now.soft }
  // macOS refuses a soft limit above OPEN_MAX (10240) even when the hard limit is unlimited.
  const target = process.platform === 'darwin' ? Math.min(now.hard, 10240) : now.hard
  const buf = new BigUint64Array([BigInt(target), now.hard === Infinity ? 0xffffffffffffffffn : BigInt(now.hard)])
  c.setrlimit(RLIMIT_NOFILE, ptr(buf) as unknown as number)
  const after = openFilesLimit() ?? now
  return { ...after, was: now.soft }
}

/** RLIM_INFINITY is all ones. */
function asNumber(v: bigint): number {
  return v === 0xffffffffffffffffn ? Infinity : Number(v)
}

/** The start-up line's part: "open files 20000 (raised from 1024; hard 20000)". */
export function describeOpenFiles(l: OpenFilesLimit | undefined): string {
  if (!l) return 'open files limit unknown'
  const hard = l.hard === Infinity ? 'unlimited' : String(l.hard)
  return l.was < l.soft ? `open files ${l.soft} (raised from ${l.was}; hard ${hard})` : `open files ${l.soft} (hard ${hard})`
}
