/**
 * Where a database worker's code is (`file` beside this module, in src/db/). Inside the compiled
 * executable every module is bundled into one file and each worker is an entrypoint of its own
 * (scripts/build.ts), addressed relative to the bundle root (src/); in development it sits here.
 */
export function workerUrl(file: string): string {
  return import.meta.url.includes('/$bunfs/') ? `./db/${file}` : new URL(`./${file}`, import.meta.url).href
}
