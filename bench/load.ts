import autocannon, { type Options as CannonOptions, type Result as CannonResult } from 'autocannon';

export interface LoadSettings {
  connections: number;
  durationSeconds: number;
  /** A run before the measured one, whose numbers are thrown away: JIT, plan caches, pool connections. */
  warmupSeconds: number;
}

export interface Target {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  /** One body per request, each sent once (the run lasts as many requests as there are bodies). */
  bodies?: unknown[];
}

export interface Measurement {
  reqPerSec: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Count per HTTP status, to say what the non-2xx were. */
  statusCodes: Record<string, number>;
}

function requestInit(target: Target): { method: string; headers: Record<string, string>; body?: string } {
  if (target.body === undefined) return { method: target.method, headers: target.headers };
  return { method: target.method, headers: { 'content-type': 'application/json', ...target.headers }, body: JSON.stringify(target.body) };
}

/**
 * One request before loading: it must be a 200 with a JSON body. A benchmark of 401s or 404s measures
 * the error path, not the hot path, so anything else stops the run.
 */
export async function verify(name: string, target: Target): Promise<void> {
  const res = await fetch(target.url, { ...requestInit(target), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  let json = false;
  try {
    JSON.parse(text);
    json = type.includes('json');
  } catch {
    // not JSON: reported below
  }
  if (res.status !== 200 || !json) {
    throw new Error(`${name}: ${target.method} ${target.url} answered ${res.status} (${type || 'no content-type'}), expected 200 with JSON:\n${text.slice(0, 2_000)}`);
  }
}

/** Warm-up, then the measured run. */
export async function measure(target: Target, settings: LoadSettings): Promise<Measurement> {
  const init = requestInit(target);
  const options = { url: target.url, connections: settings.connections, ...init };
  let r: CannonResult;
  if (target.bodies) {
    // A tenth of the bodies warm up, the rest are measured; every body is sent exactly once.
    const warm = Math.floor(target.bodies.length / 10);
    const once = (list: unknown[]) => {
      let next = 0;
      return {
        ...options,
        amount: list.length,
        requests: [{ method: init.method, headers: { 'content-type': 'application/json', ...target.headers }, setupRequest: (req: object) => ({ ...req, body: JSON.stringify(list[next++]) }) }],
      };
    };
    if (warm > 0) await autocannon(once(target.bodies.slice(0, warm)) as CannonOptions);
    r = await autocannon(once(target.bodies.slice(warm)) as CannonOptions);
  } else {
    if (settings.warmupSeconds > 0) await autocannon({ ...options, duration: settings.warmupSeconds });
    r = await autocannon({ ...options, duration: settings.durationSeconds });
  }
  return {
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}
