// Comparing two Prometheus API answers for equality of meaning: series order and the last bits of floats do not count.
import { fetch as undiciFetch, type Dispatcher } from 'undici';

const RELATIVE_TOLERANCE = 1e-9;

type Sample = [number, string];
interface Body { status?: string; errorType?: string; data?: unknown }

const labelKey = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

function closeEnough(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a), y = Number(b);
  if (Number.isNaN(x) && Number.isNaN(y)) return true;
  return Math.abs(x - y) <= RELATIVE_TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

/** The comparable part of an answer: an error's type, a sorted list, or sorted series with their samples. */
export function normalise(body: Body | null): unknown {
  if (!body || body.status !== 'success') return { error: body?.errorType ?? 'no body' };
  const data = body.data as any;
  if (Array.isArray(data)) return { list: data.map((x) => (typeof x === 'object' ? labelKey(x) : x)).sort() };
  if (data && typeof data === 'object' && !('resultType' in data)) return { object: labelKey(data) };
  if (data.resultType === 'scalar' || data.resultType === 'string') return { type: data.resultType, value: data.result };
  const rows = (data.result as any[])
    .map((s) => ({ key: labelKey(s.metric), samples: (s.values ?? (s.value ? [s.value] : [])) as Sample[] }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { type: data.resultType, rows };
}

/** null when two normalised answers agree, else a sentence saying where they first differ. */
export function difference(got: any, want: any): string | null {
  if (got.error || want.error) return got.error && want.error ? null : `error mismatch: got ${got.error ?? 'success'}, want ${want.error ?? 'success'}`;
  if (want.list || want.object) {
    const [g, w] = [JSON.stringify(got.list ?? got.object), JSON.stringify(want.list ?? want.object)];
    return g === w ? null : `got ${g.slice(0, 300)}, want ${w.slice(0, 300)}`;
  }
  if (got.type !== want.type) return `result type ${got.type}, want ${want.type}`;
  if (want.value) return closeEnough(got.value[1], want.value[1]) && got.value[0] === want.value[0] ? null : `value ${got.value}, want ${want.value}`;
  if (got.rows.length !== want.rows.length) return `${got.rows.length} series, want ${want.rows.length} (got ${got.rows.map((r: any) => r.key).join(' ').slice(0, 300)})`;
  for (let i = 0; i < want.rows.length; i++) {
    const g = got.rows[i], w = want.rows[i];
    if (g.key !== w.key) return `series ${g.key}, want ${w.key}`;
    if (g.samples.length !== w.samples.length) return `series ${w.key}: ${g.samples.length} samples, want ${w.samples.length}`;
    for (let j = 0; j < w.samples.length; j++) {
      if (g.samples[j][0] !== w.samples[j][0] || !closeEnough(g.samples[j][1], w.samples[j][1])) {
        return `series ${w.key} sample ${j}: ${g.samples[j]}, want ${w.samples[j]}`;
      }
    }
  }
  return null;
}

/** GET or POST (form-encoded) to a Prometheus-style API; the body is parsed JSON, or null. */
export async function callApi(
  base: string,
  path: string,
  params: Record<string, string> | [string, string][],
  /** `dispatcher`: an undici Agent (HTTPS with a client certificate, say). */
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; dispatcher?: Dispatcher } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const query = new URLSearchParams(params).toString();
  const method = init.method ?? 'GET';
  const { dispatcher } = init;
  const get = (url: string, options: RequestInit) =>
    (dispatcher === undefined ? fetch(url, options) : undiciFetch(url, { ...(options as object), dispatcher })) as Promise<Response>;
  const res = method === 'POST'
    ? await get(`${base}${path}`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded', ...init.headers }, body: query })
    : await get(`${base}${path}?${query}`, { headers: init.headers ?? {} });
  const text = await res.text();
  let body: any = null;
  try { body = JSON.parse(text); } catch { /* not JSON: compared as null */ }
  return { status: res.status, body, headers: res.headers };
}
