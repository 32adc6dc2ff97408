/** uPlot charts: stacked bars of spend per day, and requests with latency per minute. */
import uPlot from 'uplot'

const PALETTE = ['#2457d6', '#e07b00', '#2f9e62', '#b3261e', '#7a4bc2', '#00838f', '#c2185b', '#6d6d00']

export interface Point {
  t: number
  group: string | null
  spend_nanos: number
  requests: number
  errors: number
  avg_ms: number
}

function width(el: HTMLElement): number {
  return Math.max(320, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 640) - 8)
}

/** Stacked bars: each series is the running sum, drawn from the top one down. */
export class StackedBars {
  private plot: uPlot | undefined
  private groups: string[] = []
  private timezone: string | undefined

  constructor(
    private readonly el: HTMLElement,
    private readonly fmt: (v: number) => string,
    /** The top of the axis while there is no data. */
    private readonly emptyMax = 1,
  ) {}

  update(points: Point[], starts: number[], bucketMs: number, value: (p: Point) => number, timezone?: string): void {
    const xs = starts.map((t) => t / 1000)
    // Groups with nothing to show (e.g. refused requests, which belong to no project) stay out of the legend.
    const groups = [...new Set(points.filter((p) => value(p) > 0).map((p) => p.group ?? 'other'))].sort()
    const raw = groups.map((g) => xs.map((x) => points.filter((p) => (p.group ?? 'other') === g && p.t / 1000 === x).reduce((s, p) => s + value(p), 0)))
    const stacked = raw.map((_, i) => xs.map((_, j) => raw.slice(0, i + 1).reduce((s, r) => s + r[j]!, 0)))
    // Empty buckets draw nothing (a zero-height bar would draw a line along the axis).
    const data = [xs, ...stacked.reverse().map((ys) => ys.map((y) => (y === 0 ? null : y)))] as uPlot.AlignedData
    const pad = bucketMs / 2000
    if (!this.plot || groups.join('\0') !== this.groups.join('\0') || timezone !== this.timezone) {
      this.groups = groups
      this.timezone = timezone
      this.plot?.destroy()
      const names = [...groups].reverse()
      this.plot = new uPlot(
        {
          width: width(this.el),
          height: 220,
          // Day labels in the zone the days are counted in (the limits'), not the browser's.
          ...(timezone ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), timezone) } : {}),
          scales: { x: { time: true, range: (_u, min, max) => [min - pad, max + pad] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : this.emptyMax] } },
          axes: [{}, { values: (_u, vals) => vals.map(this.fmt), size: 86 }],
          legend: { live: false },
          series: [
            {},
            ...names.map((g, i) => ({
              label: g,
              fill: PALETTE[(names.length - 1 - i) % PALETTE.length],
              stroke: PALETTE[(names.length - 1 - i) % PALETTE.length],
              paths: uPlot.paths.bars!({ size: [0.6, 60] }),
              points: { show: false },
              value: (_u: uPlot, _v: number, _si: number, idx: number | null) => (idx === null ? '' : this.fmt(raw[groups.indexOf(g)]![idx]!)),
            })),
          ],
        },
        data,
        this.el,
      )
    } else this.plot.setData(data)
  }
}

/** Requests per bucket as bars (left axis) and average latency as a line (right axis). */
export class RequestsLatency {
  private plot: uPlot | undefined

  constructor(private readonly el: HTMLElement) {}

  update(points: Point[], starts: number[], bucketMs: number): void {
    const xs = starts.map((t) => t / 1000)
    const at = new Map(points.map((p) => [p.t / 1000, p]))
    const pad = bucketMs / 2000
    const data: uPlot.AlignedData = [xs, xs.map((x) => at.get(x)?.requests || null), xs.map((x) => at.get(x)?.errors || null), xs.map((x) => at.get(x)?.avg_ms ?? null)]
    if (!this.plot) {
      this.plot = new uPlot(
        {
          width: width(this.el),
          height: 220,
          scales: { x: { time: true, range: (_u, min, max) => [min - pad, max + pad] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] }, ms: { range: (_u, _min, max) => [0, Math.max(10, (max ?? 0) * 1.2)] } },
          axes: [{}, { label: 'requests', size: 50 }, { scale: 'ms', side: 1, label: 'ms', grid: { show: false }, size: 60 }],
          legend: { live: false },
          series: [
            {},
            { label: 'requests', fill: 'rgba(36,87,214,.55)', stroke: '#2457d6', paths: uPlot.paths.bars!({ size: [0.6, 40] }), points: { show: false } },
            { label: 'errors', fill: 'rgba(179,38,30,.7)', stroke: '#b3261e', paths: uPlot.paths.bars!({ size: [0.3, 20] }), points: { show: false } },
            { label: 'avg latency', scale: 'ms', stroke: '#e07b00', width: 2, spanGaps: false, points: { show: true, size: 5 } },
          ],
        },
        data,
        this.el,
      )
    } else this.plot.setData(data)
  }
}
