import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
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

/** A streamed body grew past its limit on the way upstream. */
export class BodyTooLarge extends Error {
  constructor(readonly max: number) {
    super(`request body larger than ${max} bytes`);
  }
}

/**
 * The request body as a stream of its bytes, untouched, that fails with `BodyTooLarge` once more than `max`
 * bytes have come: for bodies streamed upstream rather than read (remote-write push). A declared length over
 * the limit is refused before any byte is read.
 */
export function limitedBody(incoming: IncomingMessage, max: number): Result<Readable, BodyRefusal> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return err({ status: 413, message: new BodyTooLarge(max).message });
  let size = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > max ? new BodyTooLarge(max) : null, size > max ? undefined : chunk);
    },
  });
  incoming.once('aborted', () => limiter.destroy(new Error('the client went away')));
  return ok(incoming.pipe(limiter));
}

/** The media type of a Content-Type header, in lower case, its parameters (such as charset) aside. */
function mediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** Whether a Content-Type header names the urlencoded form media type. */
export const isForm = (contentType: string | undefined): boolean => mediaType(contentType) === 'application/x-www-form-urlencoded';

/** Whether a Content-Type header names JSON. */
export const isJson = (contentType: string | undefined): boolean => mediaType(contentType) === 'application/json';
