// A stand-in upstream that keeps each request body as the bytes received (binary bodies included) and answers
// what the test sets, so that answers promgate must filter or pass on (an error, a non-Prometheus 200) can be made.
// A request the client broke off is kept too, marked incomplete, so that a test can tell what reached the upstream.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** False when the request broke off before its end. */
  complete: boolean;
}

export interface ScriptedAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface ScriptedUpstream {
  readonly url: string;
  readonly received: Received[];
  /** What every request is answered with, from now on. */
  answer: ScriptedAnswer;
  close(): Promise<void>;
}

const PROMETHEUS_EMPTY: ScriptedAnswer = { status: 200, body: JSON.stringify({ status: 'success', data: [] }) };

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const received: Received[] = [];
  const state: { answer: ScriptedAnswer } = { answer: PROMETHEUS_EMPTY };
  const server: Server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const chunks: Buffer[] = [];
    let kept = false;
    const keep = (complete: boolean): void => {
      if (kept) return;
      kept = true;
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), complete });
    };
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      keep(true);
      const { status, body, contentType = 'application/json' } = state.answer;
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    req.on('close', () => keep(false));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get answer() {
      return state.answer;
    },
    set answer(answer: ScriptedAnswer) {
      state.answer = answer;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
