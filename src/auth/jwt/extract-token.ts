import type { RequestView } from '../types.js';

// RFC 6750: the scheme is case-insensitive; the token itself has no spaces.
const BEARER = /^bearer[ \t]+([^ \t]+)[ \t]*$/i;

/**
 * The bearer token of a request, with k8spin's precedence: `Authorization: Bearer <token>`, else `Token: <token>`.
 * An Authorization header of another scheme (say Basic) falls through to `Token`, as in k8spin.
 */
export function extractToken(request: RequestView): string | undefined {
  const match = BEARER.exec(request.header('authorization') ?? '');
  if (match?.[1] !== undefined) return match[1];
  const token = request.header('token')?.trim();
  return token === undefined || token === '' ? undefined : token;
}

/** Whether the caller sent any credentials at all (only then is a challenge withheld). */
export function sentCredentials(request: RequestView): boolean {
  return request.header('authorization') !== undefined || request.header('token') !== undefined;
}
