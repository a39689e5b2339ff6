/** The few cookies of the OIDC sign-in (gateway/oidc.ts): read from a request, written HttpOnly. */
import type http from 'node:http';

export function readCookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds: number;
  sameSite: 'Strict' | 'Lax';
  /** Only over https (a public URL with https). */
  secure: boolean;
}

/** A Set-Cookie value; the value must be a token (base64url and dots), never anything a client wrote. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  if (!/^[A-Za-z0-9._-]*$/.test(value)) throw new Error('cookie values are tokens');
  return [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${options.maxAgeSeconds}`, 'HttpOnly', `SameSite=${options.sameSite}`, ...(options.secure ? ['Secure'] : [])].join('; ');
}

export function clearCookie(name: string, options: Omit<CookieOptions, 'maxAgeSeconds'>): string {
  return setCookie(name, '', { ...options, maxAgeSeconds: 0 });
}
