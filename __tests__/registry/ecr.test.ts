import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ImageNotFoundException,
  InvalidParameterException,
  LimitExceededException,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  SetRepositoryPolicyCommand
} from '@aws-sdk/client-ecr'
import {
  CreateRepositoryCommand as PublicCreateRepositoryCommand,
  DescribeImagesCommand as PublicDescribeImagesCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as PublicGetAuthorizationTokenCommand,
  ImageNotFoundException as PublicImageNotFoundException,
  PutRepositoryCatalogDataCommand,
  RepositoryAlreadyExistsException as PublicRepositoryAlreadyExistsException
} from '@aws-sdk/client-ecr-public'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it, test, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { decodeAuthorizationToken, describeAwsError, FollowUpError, privateEcr, publicEcr } =
  await import('../../src/registry/ecr.js')
const { UserError } = await import('../../src/errors.js')
const { parseRegistryHost } = await import('../../src/registry/registry-host.js')

const ecr = mockClient(ECRClient)
const ecrPublic = mockClient(ECRPUBLICClient)

const TOKEN = Buffer.from('AWS:ecr-password-123').toString('base64')
const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const DIGEST = `sha256:${'ab'.repeat(32)}`
const meta = { $metadata: {} }

const ENDPOINT_VARS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL_ECR_PUBLIC']
const savedEnv: Record<string, string | undefined> = {}

function ecrHost(host: string) {
  const parsed = parseRegistryHost(host)
  if (parsed.kind !== 'ecr') throw new Error(`${host} is not an ECR host`)
  return parsed
}

/** The flags the ECRClient of the last call was built with. */
async function clientFlags(mock: typeof ecr) {
  const client = mock.call(0).thisValue as ECRClient
  return {
    fips: await client.config.useFipsEndpoint(),
    dualStack: await client.config.useDualstackEndpoint(),
    region: await client.config.region()
  }
}

beforeEach(() => {
  core.resetCore()
  ecr.reset()
  ecrPublic.reset()
  for (const name of ENDPOINT_VARS) {
    savedEnv[name] = process.env[name]
    delete process.env[name]
  }
})

afterEach(() => {
  for (const name of ENDPOINT_VARS) {
    if (savedEnv[name] === undefined) delete process.env[name]
    else process.env[name] = savedEnv[name]
  }
})

describe('decodeAuthorizationToken', () => {
  it('splits user:password and masks the token and the password', () => {
    expect(decodeAuthorizationToken(TOKEN)).toEqual({
      username: 'AWS',
      password: 'ecr-password-123'
    })
    expect(core.setSecret).toHaveBeenCalledWith(TOKEN)
    expect(core.setSecret).toHaveBeenCalledWith('ecr-password-123')
  })

  it('masks the token before decoding it', () => {
    decodeAuthorizationToken(TOKEN)
    expect(core.setSecret.mock.calls[0][0]).toBe(TOKEN)
  })

  it('splits on the first colon only', () => {
    const token = Buffer.from('AWS:pa:ss:word').toString('base64')
    expect(decodeAuthorizationToken(token)).toEqual({ username: 'AWS', password: 'pa:ss:word' })
  })

  test.each([
    ['no colon', Buffer.from('AWSpassword').toString('base64')],
    ['empty user', Buffer.from(':password').toString('base64')],
    ['empty token', '']
  ])('rejects a token with %s', (_case, token) => {
    expect(() => decodeAuthorizationToken(token)).toThrow(
      'ECR returned an authorization token that is not user:password'
    )
    // the token itself is still masked
    expect(core.setSecret).toHaveBeenCalledWith(token)
  })
})

describe('describeAwsError', () => {
  const action = 'ecr:GetAuthorizationToken'

  test.each([
    'unable to get local issuer certificate',
    'self-signed certificate in certificate chain',
    'unable to verify the first certificate'
  ])('an untrusted certificate (%s) names AWS_CA_BUNDLE', message => {
    const error = describeAwsError(
      Object.assign(new Error(message), { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
      action,
      'us-gov-west-1'
    )
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `The TLS certificate of the AWS API for ${action} in us-gov-west-1 is not trusted (${message}): behind a TLS-inspecting proxy, set AWS_CA_BUNDLE (or NODE_EXTRA_CA_CERTS) to a PEM file with the proxy's CA.`
    )
  })
  const hint =
    'configure AWS credentials for the job (e.g. aws-actions/configure-aws-credentials with a role that allows it)'

  test.each([
    [
      'CredentialsProviderError',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError'
      })
    ],
    ['a plain error naming credentials', new Error('Could not load credentials from any providers')]
  ])('%s -> no credentials', (_case, error) => {
    const described = describeAwsError(error, action, 'eu-west-2')
    expect(described).toBeInstanceOf(UserError)
    expect(described.message).toBe(`No AWS credentials found for ${action}: ${hint}.`)
  })

  test.each([
    'UnrecognizedClientException',
    'InvalidSignatureException',
    'ExpiredTokenException',
    'InvalidClientTokenId',
    'SignatureDoesNotMatch'
  ])('%s -> credentials rejected', name => {
    const error = Object.assign(
      new Error('The security token included in the request is invalid.'),
      {
        name,
        $metadata: { httpStatusCode: 400 }
      }
    )
    const described = describeAwsError(error, action, 'eu-west-2')
    expect(described).toBeInstanceOf(UserError)
    expect(described.message).toBe(
      `AWS rejected the credentials for ${action} in eu-west-2 (${name}: The security token included in the request is invalid.): ${hint}.`
    )
  })

  it('AccessDeniedException -> denied, naming the permission fix', () => {
    const error = Object.assign(
      new Error('User: arn:aws:sts::1:assumed-role/x is not authorized'),
      {
        name: 'AccessDeniedException'
      }
    )
    const described = describeAwsError(error, 'ecr:CreateRepository for "charts/a"', 'us-east-1')
    expect(described).toBeInstanceOf(UserError)
    expect(described.message).toBe(
      `AWS denied ecr:CreateRepository for "charts/a" in us-east-1 (User: arn:aws:sts::1:assumed-role/x is not authorized): grant the permission to the job's role (see the README's IAM policy).`
    )
  })

  it('any HTTP 403 -> denied', () => {
    const error = { name: 'UnknownError', message: 'Forbidden', $metadata: { httpStatusCode: 403 } }
    expect(describeAwsError(error, action, 'us-east-1').message).toMatch(
      /^AWS denied ecr:GetAuthorizationToken in us-east-1 \(Forbidden\)/
    )
  })

  it('other errors keep their name and are not user errors', () => {
    const error = new LimitExceededException({ message: 'too many repositories', $metadata: {} })
    const described = describeAwsError(error, 'ecr:CreateRepository for "a"', 'us-east-1')
    expect(described).not.toBeInstanceOf(UserError)
    expect(described.message).toBe(
      'ecr:CreateRepository for "a" failed in us-east-1: LimitExceededException: too many repositories'
    )
  })

  it('copes with non-Error values', () => {
    expect(describeAwsError('boom', action, 'us-east-1').message).toBe(
      'ecr:GetAuthorizationToken failed in us-east-1: Error: boom'
    )
    expect(describeAwsError(undefined, action, 'us-east-1').message).toBe(
      'ecr:GetAuthorizationToken failed in us-east-1: Error: undefined'
    )
  })
})

describe('privateEcr', () => {
  function tokenResponse(proxyEndpoint = `https://${HOST}`) {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        { authorizationToken: TOKEN, proxyEndpoint, expiresAt: new Date('2030-01-01T00:00:00Z') }
      ]
    })
  }

  it('logs in to the host of proxyEndpoint when no registry is given', async () => {
    tokenResponse('https://210987654321.dkr.ecr.us-east-1.amazonaws.com')
    const api = await privateEcr('us-east-1')
    expect(await api.login()).toEqual({
      host: '210987654321.dkr.ecr.us-east-1.amazonaws.com',
      username: 'AWS',
      password: 'ecr-password-123'
    })
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0].args[0].input).toEqual({})
    expect(core.setSecret).toHaveBeenCalledWith('ecr-password-123')
    expect(await clientFlags(ecr)).toEqual({ fips: false, dualStack: false, region: 'us-east-1' })
  })

  it('uses the explicit registry host over proxyEndpoint (cross-account)', async () => {
    tokenResponse('https://210987654321.dkr.ecr.eu-west-2.amazonaws.com')
    const api = await privateEcr('eu-west-2', ecrHost(HOST))
    expect((await api.login()).host).toBe(HOST)
  })

  test.each([
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', true, false],
    ['123456789012.dkr-ecr.us-east-1.on.aws', false, true],
    ['123456789012.dkr-ecr-fips.us-east-1.on.aws', true, true]
  ])('%s sets FIPS %s and dual-stack %s on the client', async (host, fips, dualStack) => {
    tokenResponse()
    await (await privateEcr('us-east-1', ecrHost(host))).login()
    expect(await clientFlags(ecr)).toEqual({ fips, dualStack, region: 'us-east-1' })
  })

  test.each(['AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL'])(
    'keeps FIPS and dual-stack off when %s is set (the SDK refuses both with a custom endpoint)',
    async variable => {
      process.env[variable] = 'http://127.0.0.1:4566'
      tokenResponse()
      await (
        await privateEcr('us-east-1', ecrHost('123456789012.dkr-ecr-fips.us-east-1.on.aws'))
      ).login()
      expect(await clientFlags(ecr)).toEqual({ fips: false, dualStack: false, region: 'us-east-1' })
    }
  )

  it('does not treat AWS_ENDPOINT_URL_ECR_PUBLIC as an override for private ECR', async () => {
    process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = 'http://127.0.0.1:4566'
    tokenResponse()
    await (
      await privateEcr('us-east-1', ecrHost('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com'))
    ).login()
    expect((await clientFlags(ecr)).fips).toBe(true)
  })

  it('fails clearly when the token response is empty', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] })
    await expect((await privateEcr('eu-west-2')).login()).rejects.toThrow(
      'ecr:GetAuthorizationToken in eu-west-2 returned no authorization data'
    )
  })

  it('fails clearly without a proxyEndpoint', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: TOKEN }]
    })
    await expect((await privateEcr('eu-west-2')).login()).rejects.toThrow(
      'returned no authorization data'
    )
  })

  it('describes an SDK error from GetAuthorizationToken', async () => {
    ecr.on(GetAuthorizationTokenCommand).rejects(
      Object.assign(new Error('not authorized to perform: ecr:GetAuthorizationToken'), {
        name: 'AccessDeniedException'
      })
    )
    const error = await (
      await privateEcr('eu-west-2')
    )
      .login()
      .then(() => undefined)
      .catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(UserError)
    expect(error?.message).toBe(
      "AWS denied ecr:GetAuthorizationToken in eu-west-2 (not authorized to perform: ecr:GetAuthorizationToken): grant the permission to the job's role (see the README's IAM policy)."
    )
  })

  describe('createRepository', () => {
    it('sends the request as built', async () => {
      ecr.on(CreateRepositoryCommand).resolves({ repository: { repositoryName: 'charts/a' } })
      const api = await privateEcr('eu-west-2', ecrHost(HOST))
      const request = {
        repositoryName: 'charts/a',
        registryId: '123456789012',
        imageTagMutability: 'IMMUTABLE' as const,
        tags: [{ Key: 'team', Value: 'platform' }]
      }
      expect(await api.createRepository(request)).toBe(true)
      expect(ecr.commandCalls(CreateRepositoryCommand)[0].args[0].input).toEqual(request)
    })

    it('returns false when the repository already exists', async () => {
      ecr
        .on(CreateRepositoryCommand)
        .rejects(new RepositoryAlreadyExistsException({ message: 'exists', ...meta }))
      expect(await (await privateEcr('eu-west-2')).createRepository({ repositoryName: 'a' })).toBe(
        false
      )
    })

    it('describes other failures', async () => {
      ecr
        .on(CreateRepositoryCommand)
        .rejects(new LimitExceededException({ message: 'limit reached', ...meta }))
      await expect(
        (await privateEcr('eu-west-2')).createRepository({ repositoryName: 'charts/a' })
      ).rejects.toThrow(
        'ecr:CreateRepository for "charts/a" failed in eu-west-2: LimitExceededException: limit reached'
      )
    })
  })

  describe('follow-up calls', () => {
    it('sends PutLifecyclePolicy and SetRepositoryPolicy as built', async () => {
      ecr.on(PutLifecyclePolicyCommand).resolves({})
      ecr.on(SetRepositoryPolicyCommand).resolves({})
      const api = await privateEcr('eu-west-2', ecrHost(HOST))
      await api.putLifecyclePolicy({ repositoryName: 'a', lifecyclePolicyText: '{"rules":[]}' })
      await api.setRepositoryPolicy({ repositoryName: 'a', policyText: '{}' })
      expect(ecr.commandCalls(PutLifecyclePolicyCommand)[0].args[0].input).toEqual({
        repositoryName: 'a',
        lifecyclePolicyText: '{"rules":[]}'
      })
      expect(ecr.commandCalls(SetRepositoryPolicyCommand)[0].args[0].input).toEqual({
        repositoryName: 'a',
        policyText: '{}'
      })
    })

    it('throws FollowUpError: denied for AccessDenied, with the reason', async () => {
      ecr.on(PutLifecyclePolicyCommand).rejects(
        Object.assign(new Error('not authorized to perform: ecr:PutLifecyclePolicy'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 }
        })
      )
      ecr
        .on(SetRepositoryPolicyCommand)
        .rejects(new InvalidParameterException({ message: 'Invalid repository policy', ...meta }))
      const api = await privateEcr('eu-west-2')
      const denied = await api
        .putLifecyclePolicy({ repositoryName: 'a', lifecyclePolicyText: '{}' })
        .catch((e: unknown) => e)
      expect(denied).toBeInstanceOf(FollowUpError)
      expect(denied).toMatchObject({
        action: 'ecr:PutLifecyclePolicy',
        denied: true,
        reason: 'AccessDeniedException: not authorized to perform: ecr:PutLifecyclePolicy'
      })
      const invalid = await api
        .setRepositoryPolicy({ repositoryName: 'a', policyText: '{}' })
        .catch((e: unknown) => e)
      expect(invalid).toMatchObject({ action: 'ecr:SetRepositoryPolicy', denied: false })
    })
  })

  describe('findTag', () => {
    it('returns the digest of the tag', async () => {
      ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST }] })
      const api = await privateEcr('eu-west-2', ecrHost(HOST))
      expect(await api.findTag('charts/a', '1.2.3_build.5')).toBe(DIGEST)
      expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({
        repositoryName: 'charts/a',
        registryId: '123456789012',
        imageIds: [{ imageTag: '1.2.3_build.5' }]
      })
    })

    it('refuses a digest that is not sha256:<64 hex> (registry text is data), in one line', async () => {
      ecr
        .on(DescribeImagesCommand)
        .resolves({ imageDetails: [{ imageDigest: 'sha256:abc\n::error::planted' }] })
      const failure = await (
        await privateEcr('eu-west-2')
      )
        .findTag('charts/a', '1.0.0')
        .catch((e: unknown) => e as Error)
      expect(failure).toBeInstanceOf(Error)
      expect((failure as Error).message).toBe(
        'ecr:DescribeImages for "charts/a" in eu-west-2 gave a malformed digest (sha256:abc ::error::planted)'
      )
    })

    it('returns undefined for an empty answer', async () => {
      ecr.on(DescribeImagesCommand).resolves({ imageDetails: [] })
      expect(await (await privateEcr('eu-west-2')).findTag('a', '1.0.0')).toBeUndefined()
    })

    test.each([
      ['ImageNotFoundException', new ImageNotFoundException({ message: 'no image', ...meta })],
      [
        'RepositoryNotFoundException',
        new RepositoryNotFoundException({ message: 'no repository', ...meta })
      ]
    ])('returns undefined on %s', async (_name, error) => {
      ecr.on(DescribeImagesCommand).rejects(error)
      expect(await (await privateEcr('eu-west-2')).findTag('a', '1.0.0')).toBeUndefined()
    })

    it('describes other failures', async () => {
      ecr
        .on(DescribeImagesCommand)
        .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))
      await expect((await privateEcr('eu-west-2')).findTag('charts/a', '1.0.0')).rejects.toThrow(
        'AWS denied ecr:DescribeImages for "charts/a" in eu-west-2 (denied)'
      )
    })
  })
})

describe('publicEcr', () => {
  it('logs in with the host given, through us-east-1', async () => {
    ecrPublic.on(PublicGetAuthorizationTokenCommand).resolves({
      authorizationData: { authorizationToken: TOKEN, expiresAt: new Date('2030-01-01T00:00:00Z') }
    })
    const api = await publicEcr('public.ecr.aws')
    expect(await api.login()).toEqual({
      host: 'public.ecr.aws',
      username: 'AWS',
      password: 'ecr-password-123'
    })
    const client = ecrPublic.call(0).thisValue as ECRPUBLICClient
    expect(await client.config.region()).toBe('us-east-1')
    expect(core.setSecret).toHaveBeenCalledWith(TOKEN)
    expect(core.setSecret).toHaveBeenCalledWith('ecr-password-123')
  })

  it('fails clearly without a token', async () => {
    ecrPublic.on(PublicGetAuthorizationTokenCommand).resolves({})
    await expect((await publicEcr('public.ecr.aws')).login()).rejects.toThrow(
      'ecr-public:GetAuthorizationToken returned no authorization data'
    )
  })

  it('describes missing credentials', async () => {
    ecrPublic.on(PublicGetAuthorizationTokenCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError'
      })
    )
    await expect((await publicEcr('public.ecr.aws')).login()).rejects.toThrow(
      'No AWS credentials found for ecr-public:GetAuthorizationToken: configure AWS credentials'
    )
  })

  it('creates repositories (already existing is false)', async () => {
    ecrPublic
      .on(PublicCreateRepositoryCommand)
      .resolvesOnce({})
      .rejectsOnce(new PublicRepositoryAlreadyExistsException({ message: 'exists', ...meta }))
    const api = await publicEcr('public.ecr.aws')
    const request = { repositoryName: 'charts/a', tags: [{ Key: 'team', Value: 'platform' }] }
    expect(await api.createRepository(request)).toBe(true)
    expect(await api.createRepository(request)).toBe(false)
    expect(ecrPublic.commandCalls(PublicCreateRepositoryCommand)[0].args[0].input).toEqual(request)
  })

  it('puts catalog data; a denial is a FollowUpError', async () => {
    ecrPublic
      .on(PutRepositoryCatalogDataCommand)
      .resolvesOnce({})
      .rejectsOnce(
        Object.assign(new Error('denied'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 }
        })
      )
    const api = await publicEcr('public.ecr.aws')
    const request = { repositoryName: 'charts/a', catalogData: { description: 'A chart' } }
    await api.putRepositoryCatalogData(request)
    expect(ecrPublic.commandCalls(PutRepositoryCatalogDataCommand)[0].args[0].input).toEqual(
      request
    )
    await expect(api.putRepositoryCatalogData(request)).rejects.toMatchObject({
      action: 'ecr-public:PutRepositoryCatalogData',
      denied: true
    })
  })

  it('finds tags', async () => {
    ecrPublic
      .on(PublicDescribeImagesCommand)
      .resolvesOnce({ imageDetails: [{ imageDigest: DIGEST }] })
      .rejectsOnce(new PublicImageNotFoundException({ message: 'none', ...meta }))
    const api = await publicEcr('public.ecr.aws')
    expect(await api.findTag('charts/a', '1.0.0')).toBe(DIGEST)
    expect(await api.findTag('charts/a', '2.0.0')).toBeUndefined()
    expect(ecrPublic.commandCalls(PublicDescribeImagesCommand)[0].args[0].input).toEqual({
      repositoryName: 'charts/a',
      imageIds: [{ imageTag: '1.0.0' }]
    })
  })
})

describe('describeAwsError: unreachable API', () => {
  it('names the region input and the network when the endpoint does not resolve', () => {
    const error = describeAwsError(
      Object.assign(new Error('getaddrinfo ENOTFOUND api.ecr.eu-wset-2.amazonaws.com'), {
        name: 'Error'
      }),
      'ecr:GetAuthorizationToken',
      'eu-wset-2'
    )
    expect(error.message).toBe(
      'Could not reach the ECR API for ecr:GetAuthorizationToken in eu-wset-2 (getaddrinfo ENOTFOUND api.ecr.eu-wset-2.amazonaws.com): check "region" (or the region in "registry") and the runner\'s network or proxy.'
    )
  })
})
