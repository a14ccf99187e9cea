import type { IncomingMessage } from 'node:http';
import { err, ok, type Result } from '../result.js';

export type BodyRefusal = { status: 413; message: string } | { status: 400; message: string };

/** Reads a request body of at most `max` bytes, refusing it as soon as it is known to be larger. */
export function readBody(incoming: IncomingMessage, max: number): Promise<Result<string, BodyRefusal>> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    return Promise.resolve(err({ status: 413, message: `request body larger than ${max} bytes` }));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Result<string, BodyRefusal>): void => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) done(err({ status: 413, message: `request body larger than ${max} bytes` }));
      else chunks.push(chunk);
    };
    const onEnd = (): void => done(ok(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    const onError = (e: Error): void => done(err({ status: 400, message: `request body: ${e.message}` }));
    const onClose = (): void => done(err({ status: 400, message: 'request body: the client went away' }));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Whether a Content-Type header names the urlencoded form media type (parameters such as charset aside). */
export function isForm(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded';
}
