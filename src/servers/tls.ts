/**
 * TLS_CERT_FILE and TLS_KEY_FILE: the PEM files that make a standalone server
 * speak HTTPS (and HTTP/2). Both are read and checked once at start, so a
 * typo stops the server with one line naming the variable instead of an
 * HTTPS server that fails every handshake, or a silent fall back to HTTP.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { SettingsError } from '../lib/settings.ts'

/** The certificate chain and private key, as PEM text. */
export interface TlsFiles {
  cert: string
  key: string
}

type Env = Record<string, string | undefined>

function read(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new SettingsError(`${variable} must be a readable file, got ${JSON.stringify(path)} (${code})`)
  }
}

// Our own PEM test before parsing, so all three runtimes refuse the same
// files: their parsers differ at the edges (DER, labels, trailing bytes).
const PEM = {
  TLS_CERT_FILE: { what: 'a PEM certificate', label: /-----BEGIN CERTIFICATE-----/ },
  TLS_KEY_FILE: { what: 'an unencrypted PEM private key', label: /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/ },
}

/** `parse(text)`, or one line naming `variable` if the text is not what it must be. */
function parsePem<T>(variable: keyof typeof PEM, path: string, text: string, parse: (text: string) => T): T {
  const { what, label } = PEM[variable]
  const fail = new SettingsError(`${variable} must be ${what}, got ${JSON.stringify(path)}`)
  if (!label.test(text)) throw fail
  try {
    return parse(text)
  } catch {
    throw fail
  }
}

/** Reads the TLS files named by the environment; `undefined` when neither is set. Throws a {@link SettingsError}. */
export function readTlsFiles(env: Env): TlsFiles | undefined {
  const certFile = env.TLS_CERT_FILE || undefined
  const keyFile = env.TLS_KEY_FILE || undefined
  if (certFile === undefined && keyFile === undefined) return undefined
  if (certFile === undefined) throw new SettingsError('TLS_CERT_FILE must be set as well, since TLS_KEY_FILE is')
  if (keyFile === undefined) throw new SettingsError('TLS_KEY_FILE must be set as well, since TLS_CERT_FILE is')

  const cert = read('TLS_CERT_FILE', certFile)
  const key = read('TLS_KEY_FILE', keyFile)
  const x509 = parsePem('TLS_CERT_FILE', certFile, cert, (text) => new X509Certificate(text))
  const privateKey = parsePem('TLS_KEY_FILE', keyFile, key, (text) => createPrivateKey(text))
  // A key of another certificate would fail every handshake while the server looks healthy.
  if (!x509.checkPrivateKey(privateKey)) {
    throw new SettingsError(`TLS_KEY_FILE must be the key of the certificate, got ${JSON.stringify(keyFile)}`)
  }
  return { cert, key }
}
