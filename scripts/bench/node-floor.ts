// The floor: the least a Node.js reverse proxy does per request (no auth, no parsing, no logging), with Node's
// own client and a keep-alive pool. promgate's cost is read against it.   node --import tsx node-floor.ts PORT UPSTREAM
// Given a PEM certificate and key (node-floor.ts PORT UPSTREAM CERT KEY), it serves HTTPS: the floor over TLS.
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

const upstream = new URL(process.argv[3]!);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const proxy: RequestListener = (req, res) => {
  const out = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host }, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => res.writeHead(502).end());
  req.pipe(out);
};
const [cert, key] = process.argv.slice(4);
const server = cert === undefined || key === undefined ? createServer(proxy) : createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, proxy);
server.listen(Number(process.argv[2]), '127.0.0.1');
