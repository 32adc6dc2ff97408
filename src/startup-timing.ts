/**
 * TOLLGATE_STARTUP_TIMING=1: each start-up step prints `startup <step> <ms>` on stderr, in ms
 * since the process began, when it ends (scripts/bench-start.ts reads them). Off, it costs nothing.
 */
export const startupMark: (step: string) => void = process.env.TOLLGATE_STARTUP_TIMING
  ? (step) => console.error(`startup ${step} ${performance.now().toFixed(1)}`)
  : () => {}
