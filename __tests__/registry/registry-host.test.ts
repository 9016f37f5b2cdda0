import { partition } from '@aws-sdk/core/client'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it, test } from 'vitest'
import { UserError } from '../../src/errors.js'
import {
  ECR_PUBLIC_HOST,
  hostFromProxyEndpoint,
  parseRegistryHost,
  partitionOf
} from '../../src/registry/registry-host.js'

const ACCOUNT = '123456789012'

describe('parseRegistryHost: private ECR hosts', () => {
  test.each([
    // host, region, partition, fips, dualStack
    [`${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`, 'us-east-1', 'aws', false, false],
    [`${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com`, 'eu-west-2', 'aws', false, false],
    [`${ACCOUNT}.dkr.ecr.ap-southeast-2.amazonaws.com`, 'ap-southeast-2', 'aws', false, false],
    [`${ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com`, 'us-gov-west-1', 'aws-us-gov', false, false],
    [`${ACCOUNT}.dkr.ecr.us-gov-east-1.amazonaws.com`, 'us-gov-east-1', 'aws-us-gov', false, false],
    [`${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn`, 'cn-north-1', 'aws-cn', false, false],
    [
      `${ACCOUNT}.dkr.ecr.cn-northwest-1.amazonaws.com.cn`,
      'cn-northwest-1',
      'aws-cn',
      false,
      false
    ],
    [`${ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com`, 'us-east-1', 'aws', true, false],
    [
      `${ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`,
      'us-gov-west-1',
      'aws-us-gov',
      true,
      false
    ],
    [`${ACCOUNT}.dkr-ecr.us-east-1.on.aws`, 'us-east-1', 'aws', false, true],
    [`${ACCOUNT}.dkr-ecr.eu-central-1.on.aws`, 'eu-central-1', 'aws', false, true],
    [`${ACCOUNT}.dkr-ecr-fips.us-west-2.on.aws`, 'us-west-2', 'aws', true, true],
    [`${ACCOUNT}.dkr.ecr.eusc-de-east-1.amazonaws.eu`, 'eusc-de-east-1', 'aws-eusc', false, false],
    [`${ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov`, 'us-iso-east-1', 'aws-iso', false, false],
    [
      `${ACCOUNT}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov`,
      'us-isob-east-1',
      'aws-iso-b',
      false,
      false
    ],
    [
      `${ACCOUNT}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk`,
      'eu-isoe-west-1',
      'aws-iso-e',
      false,
      false
    ],
    [
      `${ACCOUNT}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov`,
      'us-isof-south-1',
      'aws-iso-f',
      false,
      false
    ]
  ])('%s -> %s (%s, fips %s, dual-stack %s)', (host, region, partition, fips, dualStack) => {
    expect(parseRegistryHost(host)).toEqual({
      kind: 'ecr',
      host,
      accountId: ACCOUNT,
      region,
      partition,
      fips,
      dualStack
    })
  })

  it('trims and lowercases the input', () => {
    expect(parseRegistryHost(`  ${ACCOUNT}.DKR.ECR.EU-WEST-2.AMAZONAWS.COM \n`)).toMatchObject({
      kind: 'ecr',
      host: `${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com`,
      region: 'eu-west-2'
    })
  })
})

describe('parseRegistryHost: ECR Public and other registries', () => {
  it('recognises ECR Public, whose API is in us-east-1', () => {
    expect(parseRegistryHost('public.ecr.aws')).toEqual({
      kind: 'ecr-public',
      host: ECR_PUBLIC_HOST,
      region: 'us-east-1'
    })
    expect(parseRegistryHost('Public.ECR.aws').kind).toBe('ecr-public')
  })

  test.each([
    'localhost:5000',
    'localhost',
    '127.0.0.1:5443',
    'ghcr.io',
    'registry.example.com',
    'my-registry.internal:8443',
    '[::1]:5000',
    'quay.io'
  ])('%s is another OCI registry', host => {
    expect(parseRegistryHost(host)).toEqual({ kind: 'oci', host })
  })
})

describe('parseRegistryHost: invalid input', () => {
  test.each([
    [
      `https://${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com`,
      `Input "registry" must be a bare host without a scheme (got "https://${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com"): remove the "https://" prefix, e.g. "123456789012.dkr.ecr.eu-west-2.amazonaws.com".`
    ],
    [
      'oci://ghcr.io',
      'Input "registry" must be a bare host without a scheme (got "oci://ghcr.io"): remove the "oci://" prefix, e.g. "123456789012.dkr.ecr.eu-west-2.amazonaws.com".'
    ],
    [
      'http://localhost:5000',
      'Input "registry" must be a bare host without a scheme (got "http://localhost:5000"): remove the "http://" prefix, e.g. "123456789012.dkr.ecr.eu-west-2.amazonaws.com".'
    ],
    [
      `${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com/charts`,
      `Input "registry" must be a host without a path (got "${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com/charts"): put the path in "namespace" instead.`
    ],
    [
      'public.ecr.aws/my-alias',
      'Input "registry" must be a host without a path (got "public.ecr.aws/my-alias"): put the path in "namespace" instead.'
    ],
    [
      'my registry.example.com',
      'Input "registry" is not a valid host name (got "my registry.example.com"): use a host such as "123456789012.dkr.ecr.eu-west-2.amazonaws.com".'
    ],
    [
      'user@ghcr.io',
      'Input "registry" is not a valid host name (got "user@ghcr.io"): use a host such as "123456789012.dkr.ecr.eu-west-2.amazonaws.com".'
    ],
    [
      'registry.example.com:99999',
      'Input "registry" has port 99999, which is not a TCP port (got "registry.example.com:99999"): use a port from 1 to 65535, or none for 443.'
    ],
    [
      'localhost:0',
      'Input "registry" has port 0, which is not a TCP port (got "localhost:0"): use a port from 1 to 65535, or none for 443.'
    ],
    [
      '-bad.example.com',
      'Input "registry" is not a valid host name (got "-bad.example.com"): use a host such as "123456789012.dkr.ecr.eu-west-2.amazonaws.com".'
    ],
    [
      '12345.dkr.ecr.eu-west-2.amazonaws.com',
      'Input "registry" looks like an Amazon ECR host but is not one (got "12345.dkr.ecr.eu-west-2.amazonaws.com"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.'
    ],
    [
      '1234567890123.dkr.ecr.eu-west-2.amazonaws.com',
      'Input "registry" looks like an Amazon ECR host but is not one (got "1234567890123.dkr.ecr.eu-west-2.amazonaws.com"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.'
    ],
    [
      'abcdefghijkl.dkr.ecr.eu-west-2.amazonaws.com',
      'Input "registry" looks like an Amazon ECR host but is not one (got "abcdefghijkl.dkr.ecr.eu-west-2.amazonaws.com"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.'
    ],
    [
      `${ACCOUNT}.dkr.ecr.amazonaws.com`,
      `Input "registry" looks like an Amazon ECR host but is not one (got "${ACCOUNT}.dkr.ecr.amazonaws.com"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.`
    ],
    [
      'ecr.us-east-1.amazonaws.com',
      'Input "registry" looks like an Amazon ECR host but is not one (got "ecr.us-east-1.amazonaws.com"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.'
    ],
    [
      'api.ecr.us-east-1.amazonaws.com',
      'Input "registry" looks like an Amazon ECR host but is not one (got "api.ecr.us-east-1.amazonaws.com"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.'
    ]
  ])('%s is rejected', (input, message) => {
    let thrown: unknown
    try {
      parseRegistryHost(input)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UserError)
    expect((thrown as Error).message).toBe(message)
    expect((thrown as Error).message).not.toContain('\n')
  })
})

describe('parseRegistryHost: ports', () => {
  test.each(['localhost:1', 'localhost:5000', 'registry.example.com:65535', '[::1]:443'])(
    '%s is accepted',
    host => {
      expect(parseRegistryHost(host)).toEqual({ kind: 'oci', host })
    }
  )

  test.each([
    ['localhost:0', '0'],
    ['localhost:65536', '65536'],
    ['registry.example.com:99999', '99999'],
    ['[::1]:70000', '70000']
  ])('%s is refused', (host, port) => {
    expect(() => parseRegistryHost(host)).toThrow(
      new UserError(
        `Input "registry" has port ${port}, which is not a TCP port (got "${host}"): use a port from 1 to 65535, or none for 443.`
      )
    )
  })
})

describe('parseRegistryHost: label/suffix pairs', () => {
  // The host pattern accepts any label with any suffix, so hosts AWS never serves
  // (dual-stack dkr-ecr on amazonaws.com, dkr.ecr on on.aws) parse as ECR and fail later at
  // `helm registry login` with a DNS error instead of a clear input error. Reported to src/.
  it.todo('rejects dkr-ecr on amazonaws.com and dkr.ecr on on.aws')
})

describe('partitionOf', () => {
  test.each([
    ['us-east-1', undefined, 'aws'],
    ['eu-west-2', 'amazonaws.com', 'aws'],
    ['us-gov-west-1', undefined, 'aws-us-gov'],
    ['us-gov-east-1', 'amazonaws.com', 'aws-us-gov'],
    ['cn-north-1', undefined, 'aws-cn'],
    ['cn-northwest-1', 'amazonaws.com.cn', 'aws-cn'],
    ['us-iso-east-1', undefined, 'aws-iso'],
    ['us-isob-east-1', undefined, 'aws-iso-b'],
    ['eusc-de-east-1', undefined, 'aws-eusc'],
    // the suffix decides when the region alone does not
    ['xx-east-1', 'amazonaws.com.cn', 'aws-cn'],
    ['xx-east-1', 'amazonaws.eu', 'aws-eusc'],
    ['xx-east-1', 'c2s.ic.gov', 'aws-iso'],
    ['xx-east-1', 'sc2s.sgov.gov', 'aws-iso-b'],
    ['us-east-1', 'on.aws', 'aws']
  ])('%s with suffix %s is %s', (region, suffix, partition) => {
    expect(partitionOf(region, suffix)).toBe(partition)
  })
})

describe('partitionOf agrees with the SDK', () => {
  interface SdkPartition {
    id: string
    outputs: { dnsSuffix: string }
    regionRegex: string
    regions: Record<string, unknown>
  }
  /** The SDK's partition table (not exported by @aws-sdk/core/client; read from its package). */
  async function sdkPartitions(): Promise<SdkPartition[]> {
    const pkg = createRequire(import.meta.url).resolve('@aws-sdk/core/package.json')
    const file = path.join(
      path.dirname(pkg),
      'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js'
    )
    const data = (await import(pathToFileURL(file).href)) as {
      partitionsInfo: { partitions: SdkPartition[] }
    }
    return data.partitionsInfo.partitions
  }

  it('for every region and every partition (a made-up region of its pattern) the SDK knows', async () => {
    const partitions = await sdkPartitions()
    expect(partitions.length).toBeGreaterThanOrEqual(8)
    for (const p of partitions) {
      const sample = p.regionRegex
        .replace(/^\^|\$$/g, '')
        .replaceAll('\\-', '-')
        .replace(/\((\w+)(\|\w+)*\)/, '$1')
        .replace('\\w+', 'zzz')
        .replace('\\d+', '9')
      for (const region of [...Object.keys(p.regions), sample]) {
        if (region.startsWith('aws-')) continue // the partitions' global pseudo-regions
        expect([region, partitionOf(region)]).toEqual([region, partition(region).name])
        expect([region, partitionOf(region, p.outputs.dnsSuffix)]).toEqual([region, p.id])
      }
    }
  })
})

describe('hostFromProxyEndpoint', () => {
  test.each([
    [
      `https://${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`,
      `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`
    ],
    ['http://127.0.0.1:5443', '127.0.0.1:5443'],
    [
      `https://${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/`,
      `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`
    ],
    ['registry.example.com', 'registry.example.com']
  ])('%s -> %s', (endpoint, host) => {
    expect(hostFromProxyEndpoint(endpoint)).toBe(host)
  })
})
