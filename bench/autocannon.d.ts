// autocannon ships no types and there is no @types package for v8: just the part of the programmatic
// API the bench uses (see node_modules/autocannon/lib/aggregateResult.js for the result's shape).
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Seconds before a request counts as a timeout. */
    timeout?: number;
    /** Stop after this many requests (instead of a duration). */
    amount?: number;
    /** Per-request setup: `setupRequest` may change each request (its body, say). */
    requests?: { method?: string; headers?: Record<string, string>; setupRequest?: (req: object) => object }[];
  }

  /** An hdr-histogram summary; latency values are milliseconds. */
  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }

  interface Result {
    url: string;
    connections: number;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    /** Latencies of the responses (every status: excludeErrorStats stays off). */
    latency: Histogram;
    /** Per-second samples of completed requests. */
    requests: Histogram & { sent: number };
    statusCodeStats: Record<string, { count: number }>;
  }

  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
  export type { Options, Result };
}
