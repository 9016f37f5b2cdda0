import type { RegistryConfig } from '../config/registry-config.js'
import { OciRegistry } from './oci.js'
import { PrivateEcr } from './private-ecr.js'
import { PublicEcr } from './public-ecr.js'
import type { RegistryKind } from './registry-kind.js'
import { UncheckedRegistry } from './unchecked.js'

/**
 * The registry kind of this run, from the checked configuration (config/registry-config.ts has
 * already refused what a kind cannot honour). The one switch on the kind.
 */
export function registryKind(config: RegistryConfig): RegistryKind {
  switch (config.kind) {
    case 'ecr':
      return new PrivateEcr(config)
    case 'ecr-public':
      return new PublicEcr(config)
    case 'oci':
      return new OciRegistry(config)
    case 'unchecked':
      return new UncheckedRegistry(config)
    default:
      return unknownKind(config)
  }
}

/** Compile-time guard: a kind the switch above does not handle is a type error here. */
function unknownKind(config: never): never {
  throw new Error(`unknown registry kind ${(config as { kind: string }).kind}`)
}
