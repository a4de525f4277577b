/**
 * The publish token: `Authorization: Bearer <token>` compared in constant
 * time, so the time an answer takes says nothing about how much of a guess
 * was right. Both sides are hashed first (SHA-256, Web Crypto on every
 * runtime), so the comparison also takes the same time whatever the lengths.
 */

const encoder = new TextEncoder()

// Printable ASCII without spaces: it goes in a header, after "Bearer ".
const TOKEN = /^[\x21-\x7e]{16,256}$/

/** A publish token of 16 to 256 printable ASCII characters without spaces, or a `TypeError` naming `what`. */
export function checkToken(what: string, token: unknown): string {
  if (typeof token !== 'string' || !TOKEN.test(token)) {
    throw new TypeError(`${what} must be 16 to 256 printable ASCII characters without spaces`)
  }
  return token
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))
}

/**
 * A check of `Authorization` headers against `token`: whether one (or
 * `null`) is `Bearer <token>`. The token's own digest is made once.
 */
export function bearerCheck(token: string): (authorization: string | null) => Promise<boolean> {
  const expected = digest(token)
  return async (authorization) => {
    const given = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1] ?? ''
    const [a, b] = await Promise.all([digest(given), expected])
    let difference = given === '' ? 1 : 0
    for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number)
    return difference === 0
  }
}
