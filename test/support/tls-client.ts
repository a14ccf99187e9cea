// HTTPS clients for the TLS tests: a request on a fresh connection with a given client certificate (or none), a
// keep-alive agent, and what certificate a server shows.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { Agent } from 'undici';
import type { Pair } from './certificates.js';

export type HttpsOutcome = { readonly status: number; readonly body: string } | { readonly failed: string };

export interface ClientTls {
  /** The CA file the server's certificate is checked against. */
  readonly ca: string;
  /** The client certificate to send; none sends none. */
  readonly pair?: Pair;
}

const files = ({ ca, pair }: ClientTls) => ({
  ca: readFileSync(ca),
  ...(pair !== undefined && { cert: readFileSync(pair.cert), key: readFileSync(pair.key) }),
});

/** One GET on a new connection: the status and body, or how the connection failed (a refused handshake, say). */
export function httpsGet(url: string, tls: ClientTls, headers: Record<string, string> = {}): Promise<HttpsOutcome> {
  return new Promise((resolve) => {
    const req = request(url, { ...files(tls), agent: false, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ failed: error.code ?? error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ failed: error.code ?? error.message }));
    req.end();
  });
}

/** A keep-alive agent presenting `tls.pair`, for undici's fetch (and callApi's dispatcher). */
export function tlsAgent(tls: ClientTls, connections = 8): Agent {
  return new Agent({ connections, connect: files(tls) });
}

/** The certificate a TLS server at 127.0.0.1:`port` shows on a new connection. */
export function servedCertificate(port: number, tls: ClientTls): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...files(tls) }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.on('error', reject);
  });
}
