/**
 * A fake AWS STS that answers AssumeRoleWithWebIdentity (the call the SDK's default credential
 * chain makes with AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, as on EKS runners with IRSA) with
 * fixed credentials, over TLS with the test certificate.
 */
import { readFile } from 'node:fs/promises'
import https from 'node:https'
import type net from 'node:net'
import type { TestCerts } from './certs.js'
import { closeServer } from './net-util.js'
import type { TestCredentials } from './sigv4.js'

export interface FakeSts {
  /** `https://127.0.0.1:PORT` */
  url: string
  port: number
  /** The web identity tokens received, in order. */
  readonly tokens: string[]
  stop(): Promise<void>
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export async function startFakeSts(opts: {
  certs: TestCerts
  credentials: TestCredentials
  sessionToken?: string
}): Promise<FakeSts> {
  const [cert, key] = await Promise.all([
    readFile(opts.certs.certFile),
    readFile(opts.certs.keyFile)
  ])
  const tokens: string[] = []
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      if (form.get('Action') !== 'AssumeRoleWithWebIdentity') {
        res.writeHead(400, { 'content-type': 'text/xml' })
        res.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>fake STS: AssumeRoleWithWebIdentity only</Message></Error></ErrorResponse>'
        )
        return
      }
      tokens.push(form.get('WebIdentityToken') ?? '')
      const c = opts.credentials
      const expiration = new Date(Date.now() + 3600_000).toISOString()
      res.writeHead(200, { 'content-type': 'text/xml' })
      res.end(
        [
          '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
          '<AssumeRoleWithWebIdentityResult><Credentials>',
          `<AccessKeyId>${xmlEscape(c.accessKeyId)}</AccessKeyId>`,
          `<SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>`,
          `<SessionToken>${xmlEscape(opts.sessionToken ?? 'fake-session-token')}</SessionToken>`,
          `<Expiration>${expiration}</Expiration>`,
          '</Credentials>',
          '<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/ci/e2e</Arn><AssumedRoleId>AROAFAKE:e2e</AssumedRoleId></AssumedRoleUser>',
          '</AssumeRoleWithWebIdentityResult>',
          '<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>',
          '</AssumeRoleWithWebIdentityResponse>'
        ].join('')
      )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as net.AddressInfo
  return { url: `https://127.0.0.1:${port}`, port, tokens, stop: () => closeServer(server) }
}
