import type { AuthOutcome, Authenticator, RequestView } from './types.js';

type Refusal = Extract<AuthOutcome, { ok: false }>;

/**
 * Several authenticators in order (a client certificate, then basic, say): the first that finds a credential of
 * its kind in the request decides, whatever it decides; a refused credential never falls through to the next.
 * When none finds one, the answer is 401, challenging with every scheme if the caller sent no credentials.
 */
export function firstRecognising(authenticators: readonly Authenticator[]): Authenticator {
  if (authenticators.length === 1) return authenticators[0]!;
  if (authenticators.length === 0) throw new RangeError('an authenticator chain needs at least one authenticator');

  const noneRecognised = (absent: readonly Refusal[]): AuthOutcome => {
    const reason = absent.map((outcome) => outcome.reason).join('; ');
    const challenges = absent.map((outcome) => outcome.challenge);
    // An authenticator challenges only when the caller sent no credentials at all: then every scheme is offered.
    return challenges.every((c): c is string => c !== undefined)
      ? { ok: false, status: 401, absent: true, reason, challenge: challenges.join(', ') }
      : { ok: false, status: 401, absent: true, reason };
  };

  const from = (request: RequestView, index: number, absent: Refusal[]): AuthOutcome | Promise<AuthOutcome> => {
    for (let i = index; i < authenticators.length; i++) {
      const outcome = authenticators[i]!.authenticate(request);
      if (outcome instanceof Promise) {
        return outcome.then((o) => (o.ok || o.absent !== true ? o : from(request, i + 1, [...absent, o])));
      }
      if (outcome.ok || outcome.absent !== true) return outcome;
      absent.push(outcome);
    }
    return noneRecognised(absent);
  };

  return {
    authenticate: (request) => from(request, 0, []),
    close: () => Promise.all(authenticators.map((a) => a.close())).then(() => undefined),
  };
}
