import * as core from '@actions/core'
import { UserError } from '../errors.js'
import type { Inputs } from '../config/inputs.js'
import { namedInputs, repositorySettingInputs } from './repository-settings.js'
import { refuseInsecureTransport } from './ecr-base.js'
import { OciRegistry, refuseAttestationTransport } from './oci.js'
import { PrivateEcr } from './private-ecr.js'
import { PublicEcr } from './public-ecr.js'
import type { RegistryKind } from './registry-kind.js'

/**
 * The registry kind of this run, picked once from the inputs. Each constructor refuses the
 * inputs its kind cannot honour, before any network call.
 */
export function registryKind(inputs: Inputs): RegistryKind {
  const kind = pickKind(inputs)
  // A dry run signs nothing, so only a real attesting run needs the referrer push's transport.
  if (inputs.attest && !inputs.dryRun) {
    refuseAttestationTransport(inputs, inputs.registry?.host ?? 'the default ECR registry')
  }
  warnUnusedSettings(inputs)
  return kind
}

/**
 * Repository settings without create-repository do nothing (kms-key is refused by PrivateEcr):
 * one warning, once the kind has accepted them.
 */
function warnUnusedSettings(inputs: Inputs): void {
  const set = repositorySettingInputs(inputs.repositorySettings)
  if (set.length === 0 || inputs.createRepository) return
  const many = set.length > 1
  core.warning(
    `${namedInputs(set)} only appl${many ? 'y' : 'ies'} to repositories this step creates, and "create-repository" is false: ${many ? 'they are' : 'it is'} ignored (see the README on changing existing repositories).`
  )
}

function pickKind(inputs: Inputs): RegistryKind {
  const host = inputs.registry
  // Username and password log in to any host as a plain OCI registry (inputs.ts pairs them
  // and requires "registry" with them).
  if (host && inputs.username && inputs.password) {
    // Static credentials for an ECR host (a token from "aws ecr get-login-password") are still
    // an ECR token on an HTTPS-only registry.
    if (host.kind === 'ecr' || host.kind === 'ecr-public') {
      const name = host.kind === 'ecr' ? 'Amazon ECR' : 'Amazon ECR Public'
      refuseInsecureTransport(`${name} (${host.host})`, inputs.tls)
    }
    return new OciRegistry(inputs, host, { username: inputs.username, password: inputs.password })
  }
  if (!host) return new PrivateEcr(inputs)
  switch (host.kind) {
    case 'ecr':
      return new PrivateEcr(inputs, host)
    case 'ecr-public':
      return new PublicEcr(inputs, host)
    case 'oci':
      // A dry run in a pull request from a fork has no secrets: it checks nothing remote.
      if (inputs.dryRun) return new OciRegistry(inputs, host)
      throw new UserError(
        `Input "registry" (${host.host}) is not an Amazon ECR host: set "username" and "password" for other OCI registries, or use ACCOUNT.dkr.ecr.REGION.amazonaws.com.`
      )
    default:
      return unknownHost(host)
  }
}

/** Compile-time guard: a host kind the switch above does not handle is a type error here. */
function unknownHost(host: never): never {
  throw new Error(`unknown registry host kind in ${JSON.stringify(host)}`)
}
