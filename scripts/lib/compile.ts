/**
 * One compiled executable: the CLI and its workers, libSQL's native addon for the target
 * platform and the migrations inside. Used by scripts/build.ts (this machine) and
 * scripts/release.ts (every release target).
 */
import type { BunPlugin } from 'bun'

/** The git commit and its date (the build date, so a rebuild of one commit is the same bytes). */
export function gitInfo(): { commit: string; date: string } {
  const run = (args: string[]) => {
    const r = Bun.spawnSync(['git', ...args], { cwd: `${import.meta.dir}/../..` })
    return r.exitCode === 0 ? r.stdout.toString().trim() : ''
  }
  const dirty = run(['status', '--porcelain', '--untracked-files=no']) !== ''
  const commit = run(['rev-parse', 'HEAD']) || 'unknown'
  return { commit: dirty ? `${commit}-dirty` : commit, date: run(['log', '-1', '--format=%cI']) || 'unknown' }
}

/**
 * libsql picks its native addon with a computed `require(\`@libsql/${target}\`)` that the
 * bundler cannot follow; rewrite it to the given `.node` file so that one is embedded.
 */
function libsqlNative(addonPath: string): BunPlugin {
  return {
    name: 'libsql-native',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
        const src = await Bun.file(args.path).text()
        const call = 'return require(`@libsql/${target}`);'
        if (!src.includes(call)) throw new Error('libsql loader changed; update scripts/lib/compile.ts')
        return { contents: src.replace(call, `return require(${JSON.stringify(addonPath)});`), loader: 'js' }
      })
    },
  }
}

export interface CompileOptions {
  outfile: string
  /** A Bun compile target (bun-linux-arm64, …); omitted: this machine. */
  target?: string
  /** Absolute path of the @libsql/<platform> addon (index.node) for that target. */
  addon: string
}

export async function compile(o: CompileOptions): Promise<void> {
  const git = gitInfo()
  const result = await Bun.build({
    // The workers are entrypoints of their own so the executable embeds them.
    entrypoints: ['src/cli.ts', 'src/db/writer-worker.ts', 'src/db/query-worker.ts'],
    compile: o.target ? { outfile: o.outfile, target: o.target as never } : { outfile: o.outfile },
    target: 'bun',
    format: 'esm',
    // Full identifier minification mangles class names; whitespace and syntax are safe.
    minify: { whitespace: true, syntax: true, identifiers: false },
    define: {
      // Elysia runs in development mode (verbose errors) unless told otherwise.
      'process.env.NODE_ENV': '"production"',
      TOLLGATE_BUILD_COMMIT: JSON.stringify(git.commit),
      TOLLGATE_BUILD_DATE: JSON.stringify(git.date),
      TOLLGATE_BUILD_TARGET: JSON.stringify(o.target ?? `bun-${process.platform}-${process.arch}`),
    },
    plugins: [libsqlNative(o.addon)],
    sourcemap: 'none',
    // Precompiled bytecode: the executable skips parsing its JavaScript at every start.
    bytecode: true,
  })
  if (!result.success) {
    for (const log of result.logs) console.error(log)
    throw new Error(`build of ${o.outfile} failed`)
  }
}
