// A stand-in upstream for what a real Prometheus cannot show: the exact request promgate sends it (path, headers,
// body) and how promgate treats the answer's headers. Answers are Prometheus-shaped.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RecordingUpstream {
  readonly url: string;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: Recorded[] = [];
  // As long a request line as Prometheus takes (Go's default, 1 MB).
  const server: Server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const body = JSON.stringify({ status: 'success', data: [] });
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-kept': 'yes',
        'x-hop': 'dropped',
        connection: 'x-hop',
        'keep-alive': 'timeout=5',
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
