/**
 * Benchmark row for observability: Tollgate with every span recorded and exported
 * (`sample_rate = 1`) to a local OTLP sink in its own process, `/metrics` scraped every
 * second as Prometheus would, and the JSON log line on. Run as `bun scripts/bench-telemetry.ts sink`
 * it is that sink: it accepts OTLP/HTTP exports and answers 200 at once.
 */
import type { RowFactory, Target } from './bench'

type StartTollgate = (stub: string, extraToml?: string) => Promise<string>
type StartProcess = (cmd: string[], env?: Record<string, string>) => Promise<string>

export function telemetryRows(startTollgate: StartTollgate, startProcess: StartProcess, key: string): { name: string; make: RowFactory }[] {
  const name = 'tollgate + tracing (sample 1) + metrics'
  return [
    {
      name,
      async make(stub): Promise<Target> {
        const sink = await startProcess([process.execPath, 'scripts/bench-telemetry.ts', 'sink'])
        const url = await startTollgate(stub, `[otel]\nendpoint = "${sink}"\nsample_rate = 1.0\n[metrics]\nenabled = true\n`)
        const scrape = setInterval(() => void fetch(`${url}/metrics`).then((r) => r.arrayBuffer(), () => {}), 1000)
        scrape.unref()
        return { name, base: `${url}/openai`, headers: { authorization: `Bearer ${key}` } }
      },
    },
  ]
}

if (import.meta.main && process.argv[2] === 'sink') {
  let exports = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      if ((await req.arrayBuffer()).byteLength > 0) exports++
      return new Response(new Uint8Array(0), { headers: { 'content-type': req.headers.get('content-type') ?? 'application/x-protobuf' } })
    },
  })
  console.log(`READY ${server.port}`)
  process.on('SIGTERM', () => {
    process.stderr.write(`otlp sink: ${exports} export request(s) received\n`)
    process.exit(0)
  })
}
