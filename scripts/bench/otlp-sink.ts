// Where the benchmark's traced promgate exports its spans: an OTLP/HTTP receiver that reads each export whole and
// accepts it, keeping nothing, so that what is measured is promgate's cost of tracing.   node --import tsx otlp-sink.ts PORT
import { createServer } from 'node:http';

createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
}).listen(Number(process.argv[2]), '127.0.0.1');
