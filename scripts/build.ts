/**
 * Builds dist/tollgate: one executable with libSQL's native addon and the migrations inside,
 * runnable from an empty directory with no node_modules.
 */
import type { BunPlugin } from 'bun'
import { familySync, GLIBC } from 'detect-libc'
import { buildUi } from './build-ui'

/** The @libsql/<target> package for this machine, as libsql's own loader would pick it. */
function libsqlTarget(): string {
  const arch = process.arch === 'arm' ? 'arm-gnueabihf' : process.arch
  if (process.platform === 'linux') return `linux-${arch}-${familySync() === GLIBC ? 'gnu' : 'musl'}`
  if (process.platform === 'win32') return `win32-${arch}-msvc`
  return `${process.platform}-${arch}`
}

/**
 * libsql picks its native addon with a computed `require(\`@libsql/${target}\`)` that the
 * bundler cannot follow; rewrite it to this platform's package so the `.node` file is embedded.
 */
const libsqlNative: BunPlugin = {
  name: 'libsql-native',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
      const src = await Bun.file(args.path).text()
      const call = 'return require(`@libsql/${target}`);'
      if (!src.includes(call)) throw new Error('libsql loader changed; update scripts/build.ts')
      return { contents: src.replace(call, `return require(${JSON.stringify(`@libsql/${libsqlTarget()}`)});`), loader: 'js' }
    })
  },
}

const started = performance.now()
// The admin UI is built first and embedded as files of the executable.
await buildUi()
const result = await Bun.build({
  // The workers are entrypoints of their own so the executable embeds them.
  entrypoints: ['src/cli.ts', 'src/db/writer-worker.ts', 'src/db/query-worker.ts'],
  compile: { outfile: 'dist/tollgate' },
  target: 'bun',
  format: 'esm',
  // Full identifier minification mangles class names; whitespace and syntax are safe.
  minify: { whitespace: true, syntax: true, identifiers: false },
  // Elysia runs in development mode (verbose errors) unless told otherwise.
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [libsqlNative],
  sourcemap: 'none',
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
const size = (await Bun.file('dist/tollgate').stat()).size
console.log(`dist/tollgate: ${(size / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`)
