// The upstream of the benchmark: answers every request with one fixed Prometheus vector (about 1 KiB), so that
// what is measured is the proxy, not Prometheus.   node --import tsx static-upstream.ts PORT
import { createServer } from 'node:http';

const result = Array.from({ length: 4 }, (_, i) => ({
  metric: { pod: `api-${i}`, namespace: 'tenant-a' },
  value: [1767225600, String(0.1 * (i + 1))],
}));
const body = Buffer.from(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1');
