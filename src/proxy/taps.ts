/** Several readers over one stream's events: the usage reader first, then the taps beside it. */
import type { StreamObserver } from './exchange'

/** Wraps a usage reader so taps see the same events; a tap that throws is ignored. */
export function observeStream<R extends StreamObserver>(reader: R, taps: StreamObserver[]): R {
  if (!taps.length) return reader
  return Object.assign(Object.create(reader), {
    event(name: string | undefined, data: string) {
      reader.event(name, data)
      for (const t of taps) {
        try {
          t.event(name, data)
        } catch {
          // Telemetry and estimates must never disturb the stream.
        }
      }
    },
  }) as R
}
