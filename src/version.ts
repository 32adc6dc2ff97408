/** The gateway's version, from package.json at build time; commit, date and target from the build. */
import pkg from '../package.json'

export const VERSION: string = pkg.version
export const NAME = 'tollgate'

// Replaced by scripts/build.ts and scripts/release.ts (`define`); absent when run from source.
declare const TOLLGATE_BUILD_COMMIT: string | undefined
declare const TOLLGATE_BUILD_DATE: string | undefined
declare const TOLLGATE_BUILD_TARGET: string | undefined

export interface BuildInfo {
  version: string
  commit: string
  /** ISO 8601; the commit's date, so two builds of one commit are the same bytes. */
  date: string
  bun: string
  target: string
}

export function buildInfo(): BuildInfo {
  return {
    version: VERSION,
    commit: typeof TOLLGATE_BUILD_COMMIT === 'string' ? TOLLGATE_BUILD_COMMIT : 'unknown (run from source)',
    date: typeof TOLLGATE_BUILD_DATE === 'string' ? TOLLGATE_BUILD_DATE : 'unknown (run from source)',
    bun: Bun.version,
    target: typeof TOLLGATE_BUILD_TARGET === 'string' ? TOLLGATE_BUILD_TARGET : `source (${process.platform}-${process.arch})`,
  }
}
