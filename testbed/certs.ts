import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { tempRoot } from './paths.js'
import { memoizeAsync } from './memo.js'

const execFileAsync = promisify(execFile)

/**
 * Production-like names the server certificate also carries, for tests that reach the stack by
 * name through a proxy (a private /etc/hosts, see hosts.ts, sends direct connections nowhere).
 */
export const TEST_SERVER_NAMES = [
  'get.helm.sh',
  'helm-mirror.test',
  'api.ecr.us-gov-west-1.amazonaws.com',
  '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
  'sts.us-gov-west-1.amazonaws.com',
  'sts.amazonaws.com',
  'registry.test',
  // Another account's ECR registry (dependencies.test.ts reaches it by name through withHosts).
  '210987654321.dkr.ecr.eu-west-2.amazonaws.com'
] as const

export interface TestCerts {
  /** PEM of the test CA (use as SSL_CERT_FILE / NODE_EXTRA_CA_CERTS / --ca-file). */
  caFile: string
  /** Server certificate for 127.0.0.1, localhost and TEST_SERVER_NAMES, signed by the CA. */
  certFile: string
  keyFile: string
}

export interface LoadedCerts extends TestCerts {
  ca: Buffer
  cert: Buffer
  key: Buffer
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, timeout: 60_000 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new Error(
        'openssl not found: run `node scripts/ensure-tools.mjs` (or `apt-get install -y openssl`)'
      )
    }
    throw error
  }
}

/**
 * Writes a test CA and a server certificate (SAN IP:127.0.0.1, DNS:localhost and
 * TEST_SERVER_NAMES) signed by it into
 * `dir`, using the openssl CLI. Cached per process and directory.
 */
export function makeTestCerts(dir: string): Promise<TestCerts> {
  return generateOnce(path.resolve(dir))
}

const generateOnce = memoizeAsync(dir => generate(dir))

async function generate(dir: string): Promise<TestCerts> {
  await mkdir(dir, { recursive: true })
  const caKey = path.join(dir, 'ca.key')
  const caFile = path.join(dir, 'ca.pem')
  await openssl(['genrsa', '-out', caKey, '2048'], dir)
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '7',
      '-subj',
      '/CN=helm-ecr-publish e2e test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      caFile
    ],
    dir
  )
  const { certFile, keyFile } = await signServerCert(dir, 'server', '127.0.0.1', [
    'IP:127.0.0.1',
    'DNS:localhost',
    ...TEST_SERVER_NAMES.map(n => `DNS:${n}`)
  ])
  return { caFile, certFile, keyFile }
}

/**
 * A server key and certificate in `dir` named `<base>.key`/`<base>.pem`, for `cn` with the
 * subjectAltName entries `sans`, signed by the test CA in `dir` (ca.pem, ca.key).
 */
async function signServerCert(
  dir: string,
  base: string,
  cn: string,
  sans: string[]
): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = path.join(dir, `${base}.key`)
  const csr = path.join(dir, `${base}.csr`)
  const certFile = path.join(dir, `${base}.pem`)
  const ext = path.join(dir, `${base}.ext`)
  await openssl(['genrsa', '-out', keyFile, '2048'], dir)
  await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', csr], dir)
  await writeFile(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${sans.join(',')}`,
      ''
    ].join('\n')
  )
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      path.join(dir, 'ca.pem'),
      '-CAkey',
      path.join(dir, 'ca.key'),
      '-CAcreateserial',
      '-days',
      '7',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      certFile
    ],
    dir
  )
  return { certFile, keyFile }
}

/**
 * A server certificate for the DNS `names` (and 127.0.0.1), signed by the test CA of `certs`
 * (its key sits next to caFile): for fakes that answer under production host names.
 */
export function makeHostCert(
  certs: TestCerts,
  names: readonly string[]
): Promise<{ certFile: string; keyFile: string }> {
  return hostCertOnce(JSON.stringify([path.dirname(certs.caFile), [...names].sort()]))
}

const hostCertOnce = memoizeAsync(async (spec: string) => {
  const [dir, names] = JSON.parse(spec) as [string, string[]]
  const id = createHash('sha256').update(spec).digest('hex').slice(0, 12)
  return signServerCert(dir, `host-${id}`, names[0], [
    ...names.map(n => `DNS:${n}`),
    'IP:127.0.0.1'
  ])
})

/** Reads the PEM files of `certs` into memory (for node's tls/https servers). */
export async function loadCerts(certs: TestCerts): Promise<LoadedCerts> {
  const [ca, cert, key] = await Promise.all([
    readFile(certs.caFile),
    readFile(certs.certFile),
    readFile(certs.keyFile)
  ])
  return { ...certs, ca, cert, key }
}

/** A per-process temp directory for the test certificates, removed when the process exits. */
export function defaultCertsDir(): string {
  return processCertsDir
}

const processCertsDir = path.join(tempRoot(), `helm-ecr-e2e-certs-${process.pid}`)
process.once('exit', () => rmSync(processCertsDir, { recursive: true, force: true }))
