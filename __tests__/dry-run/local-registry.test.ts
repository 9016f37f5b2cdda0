import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  registryHandler,
  startLocalRegistry,
  type LocalRegistry
} from '../../src/dry-run/local-registry.js'

const digestOf = (data: Buffer | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`

let registry: LocalRegistry
let base: string
beforeAll(async () => {
  registry = await startLocalRegistry()
  base = `http://${registry.host}`
})
afterAll(async () => {
  await registry.stop()
})

describe('startLocalRegistry', () => {
  it('listens on loopback only and answers the version check', async () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/)
    const res = await fetch(`${base}/v2/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
  })

  it('monolithic upload: POST ?digest= stores the blob; HEAD and GET serve it', async () => {
    const blob = Buffer.from('config')
    const digest = digestOf(blob)
    const post = await fetch(`${base}/v2/ns/app/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: blob
    })
    expect(post.status).toBe(201)
    expect(post.headers.get('docker-content-digest')).toBe(digest)
    const head = await fetch(`${base}/v2/ns/app/blobs/${digest}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(blob.length))
    expect(
      Buffer.from(await (await fetch(`${base}/v2/ns/app/blobs/${digest}`)).arrayBuffer())
    ).toEqual(blob)
  })

  it('chunked upload: POST, PATCH, PATCH, PUT ?digest=; a wrong digest is refused', async () => {
    const start = await fetch(`${base}/v2/ns/app/blobs/uploads/`, { method: 'POST' })
    expect(start.status).toBe(202)
    const location = start.headers.get('location') as string
    expect(location).toMatch(/^\/v2\/ns\/app\/blobs\/uploads\/[0-9a-f-]+$/)
    await fetch(`${base}${location}`, { method: 'PATCH', body: 'hello ' })
    const patched = await fetch(`${base}${location}`, { method: 'PATCH', body: 'world' })
    expect(patched.status).toBe(202)
    expect(patched.headers.get('range')).toBe('0-10')
    const put = await fetch(`${base}${location}?digest=${digestOf('hello world')}`, {
      method: 'PUT'
    })
    expect(put.status).toBe(201)
    const again = await fetch(`${base}/v2/ns/app/blobs/uploads/`, { method: 'POST' })
    const bad = await fetch(`${base}${again.headers.get('location')}?digest=${digestOf('x')}`, {
      method: 'PUT',
      body: 'y'
    })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { errors: { code: string }[] }).errors[0].code).toBe(
      'DIGEST_INVALID'
    )
  })

  it('manifests by tag and digest, with their media type; tags list; 404s in OCI error form', async () => {
    const manifest = JSON.stringify({ schemaVersion: 2, layers: [] })
    const digest = digestOf(manifest)
    const mediaType = 'application/vnd.oci.image.manifest.v1+json'
    const put = await fetch(`${base}/v2/ns/app/manifests/0.1.0`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: manifest
    })
    expect(put.status).toBe(201)
    expect(put.headers.get('docker-content-digest')).toBe(digest)
    for (const ref of ['0.1.0', digest]) {
      const get = await fetch(`${base}/v2/ns/app/manifests/${ref}`)
      expect(get.status).toBe(200)
      expect(get.headers.get('content-type')).toBe(mediaType)
      expect(get.headers.get('docker-content-digest')).toBe(digest)
      expect(await get.text()).toBe(manifest)
    }
    const byDigest = await fetch(`${base}/v2/ns/app/manifests/${digest}`, {
      method: 'PUT',
      body: manifest
    })
    expect(byDigest.status).toBe(201)
    const wrong = await fetch(`${base}/v2/ns/app/manifests/${digestOf('other')}`, {
      method: 'PUT',
      body: manifest
    })
    expect(wrong.status).toBe(400)
    expect(await (await fetch(`${base}/v2/ns/app/tags/list`)).json()).toEqual({
      name: 'ns/app',
      tags: ['0.1.0']
    })
    const missing = await fetch(`${base}/v2/ns/app/manifests/9.9.9`, { method: 'HEAD' })
    expect(missing.status).toBe(404)
    const unknown = await fetch(`${base}/v2/ns/none/tags/list`)
    expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0].code).toBe(
      'NAME_UNKNOWN'
    )
  })

  it('two registries keep separate content; stop() frees the port', async () => {
    const other = await startLocalRegistry()
    expect(other.host).not.toBe(registry.host)
    expect((await fetch(`http://${other.host}/v2/ns/app/manifests/0.1.0`)).status).toBe(404)
    await other.stop()
    await expect(fetch(`http://${other.host}/v2/`)).rejects.toThrow()
  })
})

describe('request bodies (issue 21)', () => {
  let capped: http.Server
  let base: string
  beforeAll(async () => {
    capped = http.createServer(registryHandler({ bodyBytes: 1024 }))
    await new Promise<void>(resolve => capped.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(capped.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    capped.closeAllConnections()
    await new Promise(resolve => capped.close(resolve))
  })

  const upload = (body: Buffer | ReadableStream, digest: string) =>
    fetch(`${base}/v2/charts/big/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body,
      duplex: 'half'
    } as RequestInit)

  it('refuses a body over the cap with 413 and a one-line error, by Content-Length', async () => {
    const data = Buffer.alloc(2048, 1)
    const res = await upload(data, `sha256:${createHash('sha256').update(data).digest('hex')}`)
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      errors: [{ code: 'SIZE_INVALID', message: 'request body over 1024 bytes' }]
    })
  })

  it('refuses a streamed body (no Content-Length) once it passes the cap', async () => {
    const chunks = [Buffer.alloc(600, 1), Buffer.alloc(600, 2)]
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift()
        if (next) controller.enqueue(next)
        else controller.close()
      }
    })
    const res = await upload(stream, `sha256:${'0'.repeat(64)}`)
    expect(res.status).toBe(413)
  })

  it('takes a body at the cap', async () => {
    const data = Buffer.alloc(1024, 3)
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`
    expect((await upload(data, digest)).status).toBe(201)
  })
})

describe('the referrers API (an option: the unit tests’ fake registry serves it)', () => {
  const subject = digestOf('chart manifest')
  const referrer = (n: number, artifactType: string) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType,
      subject: { digest: subject, size: 1 },
      annotations: { n: String(n) }
    })
  const serve = async (handler: http.RequestListener) => {
    const server = http.createServer(handler)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
  }
  const put = (base: string, body: string) =>
    fetch(`${base}/v2/ns/app/manifests/${digestOf(body)}`, { method: 'PUT', body })

  it('the dry run does not serve it: /referrers/ is 404 and a manifest PUT has no OCI-Subject', async () => {
    const { server, base } = await serve(registryHandler())
    try {
      expect((await put(base, referrer(1, 'a/b'))).headers.get('oci-subject')).toBeNull()
      expect((await fetch(`${base}/v2/ns/app/referrers/${subject}`)).status).toBe(404)
    } finally {
      server.close()
    }
  })

  it('lists the manifests whose subject is the digest, filtered by artifactType, paged with Link', async () => {
    const { server, base } = await serve(registryHandler({ referrers: { pageSize: 2 } }))
    try {
      const first = await put(base, referrer(1, 'a/b'))
      expect(first.headers.get('oci-subject')).toBe(subject)
      for (const n of [2, 3]) await put(base, referrer(n, 'a/b'))
      await put(base, referrer(4, 'c/d'))
      const page = await fetch(`${base}/v2/ns/app/referrers/${subject}?artifactType=a/b`)
      expect(page.headers.get('oci-filters-applied')).toBe('artifactType')
      const index = (await page.json()) as { manifests: { artifactType: string }[] }
      expect(index.manifests).toHaveLength(2)
      const next = /<([^>]+)>; rel="next"/.exec(page.headers.get('link') ?? '')?.[1]
      const rest = (await (await fetch(`${base}${next}`)).json()) as typeof index
      expect(rest.manifests).toHaveLength(1)
      expect([...index.manifests, ...rest.manifests].every(d => d.artifactType === 'a/b')).toBe(
        true
      )
      const other = await fetch(`${base}/v2/ns/app/referrers/${digestOf('nothing')}`)
      expect(((await other.json()) as typeof index).manifests).toEqual([])
    } finally {
      server.close()
    }
  })
})
