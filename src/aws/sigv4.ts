import type { Readable } from 'node:stream';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { decodeForm, type Param } from '../http/form.js';
import type { FinalRequest, RequestSigner } from '../upstream/upstream.js';
import type { AwsCredentials } from './credentials.js';

/** What requests are signed for: the region and service of the credential scope (`aps` for AMP). */
export interface SigningScope {
  readonly region: string;
  readonly service: string;
}

type SignableRequest = Parameters<SignatureV4['sign']>[0];

// SigV4's URI encoding (RFC 3986: everything but letters, digits and -._~), which encodeURIComponent leaves
// short of by !'()*.
const escapeUri = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

class Sha256 extends Hash {
  constructor(secret?: Parameters<typeof Hash.prototype.update>[0]) {
    super('sha256', secret);
  }
}

/**
 * The request as SigV4 signs it, and the path to send: the query string spelt as the signature's canonical
 * query spells each parameter (RFC 3986, so `(` is `%28` and a space `%20`), in the order given. A service
 * that recomputes the canonical query from what it received then finds the same text whichever way it
 * decodes; the parameters are the same to Prometheus, which decodes either spelling alike.
 */
export function signable(request: FinalRequest, host: string, body: string | Uint8Array | undefined): { signable: SignableRequest; path: string } {
  const q = request.path.indexOf('?');
  const path = q === -1 ? request.path : request.path.slice(0, q);
  const params: Param[] = [];
  if (q !== -1) {
    const decoded = decodeForm(request.path.slice(q + 1), params);
    if (!decoded.ok) throw new Error(`cannot sign the request's query: ${decoded.error}`);
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const sent = params.length === 0 ? path : `${path}?${params.map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`).join('&')}`;
  return {
    signable: { method: request.method, protocol: 'https:', hostname: host, path, query, headers: { ...request.headers, host }, ...(body !== undefined && { body }) },
    path: sent,
  };
}

/**
 * The signer's settings: paths URI-encoded once more as every service but S3 wants (AMP among them), and the body's
 * hash sent as `x-amz-content-sha256` (AWS's published test vectors leave it out: their tests turn it off).
 */
export function signingOptions(scope: SigningScope, credentials: () => Promise<AwsCredentials>): ConstructorParameters<typeof SignatureV4>[0] {
  return { ...scope, credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: true };
}

/** A body streamed through (remote write) read whole: its hash goes into the signature before it is sent. */
async function wholeBody(body: FinalRequest['body']): Promise<string | Uint8Array | undefined> {
  if (body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Signs each final request with SigV4: the method, the path with the upstream's prefix, the canonical query,
 * the `host` sent, `x-amz-date`, `x-amz-security-token` when the credentials have one, every header promgate
 * sends (less those SigV4 never signs, such as User-Agent), and `x-amz-content-sha256` of the exact body sent.
 * A streamed body is read whole first (it is already bounded by its route's body limit), its hash signed: SigV4's
 * UNSIGNED-PAYLOAD is documented for S3 alone, and Prometheus's own SigV4 client buffers remote write the same way.
 */
export function sigV4Signer(scope: SigningScope, credentials: () => Promise<AwsCredentials>, now: () => Date = () => new Date()): RequestSigner {
  const signer = new SignatureV4(signingOptions(scope, credentials));
  return async (request, origin) => {
    const body = await wholeBody(request.body);
    const host = request.headers.host ?? new URL(origin).host;
    const { signable: unsigned, path } = signable(request, host, body);
    const signed = await signer.sign(unsigned, { signingDate: now() });
    return { method: request.method, path, headers: signed.headers, body: body ?? null };
  };
}
