import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))
const { refuseUrlCredentials, urlUserinfo } = await import('../../src/runtime/url-userinfo.js')

describe('credentials in a URL input', () => {
  beforeEach(() => vi.clearAllMocks())

  it.each([
    ['https://user:s3cr%40t@mirror.example/helm', 'user:s3cr%40t'],
    ['https://TOKEN@mirror.example', 'TOKEN'],
    ['http://u:p@ss@mirror.example:8443/x?y=@z', 'u:p@ss'],
    ['user:pass@mirror.example/helm', 'user:pass'],
    ['ftp://a:b@host', 'a:b']
  ])('%s holds %s', (url, userinfo) => {
    expect(urlUserinfo(url)).toBe(userinfo)
  })

  it.each([
    'https://get.helm.sh',
    'https://mirror.example/path@v1',
    'https://mirror.example/?a=b@c'
  ])('%s holds none', url => {
    expect(urlUserinfo(url)).toBeUndefined()
    expect(() => refuseUrlCredentials(url, 'helm-download-url')).not.toThrow()
  })

  it('is refused in one line that does not repeat it, after the password is masked', () => {
    let message = ''
    try {
      refuseUrlCredentials('https://user:s3cr%40t@mirror.example/helm', 'helm-download-url')
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/^Input "helm-download-url" must not hold credentials/)
    expect(message).not.toMatch(/s3cr|mirror\.example/)
    const masked = core.setSecret.mock.calls.map(([value]) => value)
    expect(masked).toEqual(expect.arrayContaining(['user:s3cr%40t', 's3cr%40t', 's3cr@t']))
  })
})
