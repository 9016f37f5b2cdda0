import { UserError } from '../errors.js'

/** A private Amazon ECR registry host, parsed. */
export interface EcrHost {
  kind: 'ecr'
  host: string
  accountId: string
  region: string
  partition: string
  fips: boolean
  dualStack: boolean
}

export interface EcrPublicHost {
  kind: 'ecr-public'
  host: string
  region: 'us-east-1'
}

/** Any other OCI registry (username and password). */
export interface OciHost {
  kind: 'oci'
  host: string
}

export type RegistryHost = EcrHost | EcrPublicHost | OciHost

export const ECR_PUBLIC_HOST = 'public.ecr.aws'

/** An AWS region name: eu-west-2, us-gov-west-1, us-isob-east-1. */
const REGION_NAME = '[a-z]{2,4}(?:-[a-z]+)+-\\d+'
export const REGION = new RegExp(`^${REGION_NAME}$`)

// <account>.dkr.ecr[-fips].<region>.<suffix> and the dual-stack <account>.dkr-ecr[-fips].<region>.on.aws
const ECR_HOST = new RegExp(
  `^(\\d{12})\\.(dkr\\.ecr|dkr\\.ecr-fips|dkr-ecr|dkr-ecr-fips)\\.(${REGION_NAME})\\.(amazonaws\\.com|amazonaws\\.com\\.cn|on\\.aws|amazonaws\\.eu|c2s\\.ic\\.gov|sc2s\\.sgov\\.gov|cloud\\.adc-e\\.uk|csp\\.hci\\.ic\\.gov)$`
)

const PARTITION_BY_SUFFIX: Record<string, string> = {
  'amazonaws.com': 'aws',
  'amazonaws.com.cn': 'aws-cn',
  'amazonaws.eu': 'aws-eusc',
  'c2s.ic.gov': 'aws-iso',
  'sc2s.sgov.gov': 'aws-iso-b',
  'cloud.adc-e.uk': 'aws-iso-e',
  'csp.hci.ic.gov': 'aws-iso-f'
}

/** host[:port] with no scheme, path, user info or whitespace. */
const HOST_PORT =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-f:]+\](?::\d{1,5})?$/i

/**
 * The AWS partition of a region (or, for a region no partition claims, of the host's DNS suffix).
 * A table rather than the SDK's own `partition()` (@aws-sdk/core/client): host parsing runs before
 * the SDK loads, and importing it costs about 25 ms and 0.5 MB of bundle at startup. A unit test
 * holds this table to the SDK's (every region and partition it knows).
 */
export function partitionOf(region: string, suffix = 'amazonaws.com'): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  if (region.startsWith('us-isof-')) return 'aws-iso-f'
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e'
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-iso-')) return 'aws-iso'
  if (region.startsWith('us-isob-')) return 'aws-iso-b'
  if (region.startsWith('eusc-')) return 'aws-eusc'
  return PARTITION_BY_SUFFIX[suffix] ?? 'aws'
}

/** Parses the `registry` input. Throws a UserError for a value that is not a bare host. */
export function parseRegistryHost(input: string): RegistryHost {
  const host = input.trim().toLowerCase()
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(host)) {
    throw new UserError(
      `Input "registry" must be a bare host without a scheme (got "${input}"): remove the "${host.split('://')[0]}://" prefix, e.g. "123456789012.dkr.ecr.eu-west-2.amazonaws.com".`
    )
  }
  if (host.includes('/')) {
    throw new UserError(
      `Input "registry" must be a host without a path (got "${input}"): put the path in "namespace" instead.`
    )
  }
  if (!HOST_PORT.test(host)) {
    throw new UserError(
      `Input "registry" is not a valid host name (got "${input}"): use a host such as "123456789012.dkr.ecr.eu-west-2.amazonaws.com".`
    )
  }
  const port = /:(\d+)$/.exec(host)?.[1]
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new UserError(
      `Input "registry" has port ${port}, which is not a TCP port (got "${input}"): use a port from 1 to 65535, or none for 443.`
    )
  }
  if (host === ECR_PUBLIC_HOST) return { kind: 'ecr-public', host, region: 'us-east-1' }
  const match = ECR_HOST.exec(host)
  if (match) {
    const [, accountId, label, region, suffix] = match
    return {
      kind: 'ecr',
      host,
      accountId,
      region,
      partition: partitionOf(region, suffix),
      fips: label.endsWith('-fips'),
      dualStack: label.startsWith('dkr-ecr')
    }
  }
  // ECR look-alikes: a malformed registry host, or the ECR API endpoint. Other hosts on AWS
  // (a registry behind an ELB, say) are ordinary OCI registries.
  const ecrApiHost = /(^|\.)(api\.)?ecr(-fips)?\.[a-z0-9-]+\.(amazonaws\.com(\.cn)?|api\.aws)$/
  if (/(^|\.)dkr[.-]ecr/.test(host) || ecrApiHost.test(host)) {
    throw new UserError(
      `Input "registry" looks like an Amazon ECR host but is not one (got "${input}"): use ACCOUNT.dkr.ecr.REGION.amazonaws.com with a 12-digit account id.`
    )
  }
  return { kind: 'oci', host }
}

/** Strips the scheme from GetAuthorizationToken's proxyEndpoint, as amazon-ecr-login does. */
export function hostFromProxyEndpoint(proxyEndpoint: string): string {
  return proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '')
}
