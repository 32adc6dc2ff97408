/**
 * Builds dist/tollgate for this machine: one executable with libSQL's native addon and the
 * migrations inside, runnable from an empty directory with no node_modules.
 */
import { createRequire } from 'node:module'
import { familySync, GLIBC } from 'detect-libc'
import { buildUi } from './build-ui'
import { compile } from './lib/compile'

/** The @libsql/<target> package for this machine, as libsql's own loader would pick it. */
function libsqlTarget(): string {
  const arch = process.arch === 'arm' ? 'arm-gnueabihf' : process.arch
  if (process.platform === 'linux') return `linux-${arch}-${familySync() === GLIBC ? 'gnu' : 'musl'}`
  if (process.platform === 'win32') return `win32-${arch}-msvc`
  return `${process.platform}-${arch}`
}

const started = performance.now()
// The admin UI is built first and embedded as files of the executable.
await buildUi()
const addon = createRequire(import.meta.resolve('libsql')).resolve(`@libsql/${libsqlTarget()}`)
await compile({ outfile: 'dist/tollgate', addon })
const size = (await Bun.file('dist/tollgate').stat()).size
console.log(`dist/tollgate: ${(size / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`)
