/**
 * A throwaway TLS certificate for tests, made with openssl at test time so no
 * key is ever committed: self-signed, valid for 127.0.0.1 and localhost, one
 * day. Clients trust it by passing `cert` as their CA.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'
import { promisify } from 'node:util'

export interface TestCert {
  /** Path of the PEM certificate (TLS_CERT_FILE). */
  certFile: string
  /** Path of the PEM private key (TLS_KEY_FILE). */
  keyFile: string
  /** The certificate's PEM text: pass it as `ca` to trust the server. */
  cert: string
  /** The key's PEM text. */
  key: string
  /** The temporary folder holding both. */
  dir: string
  /**
   * Removes the folder: call it once done (e.g. in afterAll; a server reads
   * the files only at start). A plain process also removes it on exit, but
   * a Vitest worker may be ended without an exit event.
   */
  remove(): void
}

const run = promisify(execFile)

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    throw new Error('the TLS tests need openssl to make their certificate: apt-get install -y openssl')
  }
}
const dirs: string[] = []
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** The `TLS_*` variables that make a server use `cert`. */
export function tlsEnv(cert: TestCert): { TLS_CERT_FILE: string; TLS_KEY_FILE: string } {
  return { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile }
}

/** Makes a fresh key and self-signed certificate in a temporary folder. */
export async function makeCert(): Promise<TestCert> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-sse-cert-'))
  dirs.push(dir)
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  // P-256: instant to generate, and every runtime's TLS stack takes it.
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ])
  const remove = () => rmSync(dir, { recursive: true, force: true })
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), dir, remove }
}
