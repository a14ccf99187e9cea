import type { Dispatcher } from 'undici';

/** What a tap is told of a request as its handler goes: the answer's start, its end, or its failure. */
export interface Tap {
  answered?(status: number): void;
  ended?(): void;
  /** `answering`: the answer had begun when it failed. */
  failed?(error: Error, answering: boolean): void;
}

/** A request's handler, told everything as before, `tap` told too (metrics, a span), before the handler is. */
export function tapped(inner: Dispatcher.DispatchHandler, tap: Tap): Dispatcher.DispatchHandler {
  let answering = false;
  return {
    onRequestStart: (controller, context) => inner.onRequestStart?.(controller, context),
    onRequestUpgrade: (controller, status, headers, socket) => inner.onRequestUpgrade?.(controller, status, headers, socket),
    onResponseStart: (controller, status, headers, message) => {
      // 1xx answers are interim: the answer proper follows.
      if (status >= 200) {
        answering = true;
        tap.answered?.(status);
      }
      inner.onResponseStart?.(controller, status, headers, message);
    },
    onResponseData: (controller, chunk) => inner.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => {
      tap.ended?.();
      inner.onResponseEnd?.(controller, trailers);
    },
    onResponseError: (controller, error) => {
      tap.failed?.(error, answering);
      inner.onResponseError?.(controller, error);
    },
  };
}
