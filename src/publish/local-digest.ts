import { startLocalRegistry, type LocalRegistry } from '../dry-run/local-registry.js'
import type { Helm } from '../helm/helm.js'
import { Once } from './once.js'

/**
 * The digest a push of an archive gets, without the registry: the archive is pushed to the
 * in-process registry (dry-run/local-registry.ts), started on first use. A reproducible package
 * gets the same digest in every registry, so skip-existing and the dry run compare it with the
 * registry's digest before pulling anything.
 */
export class LocalDigests {
  private readonly registry = new Once<LocalRegistry>(() => startLocalRegistry())

  constructor(
    private readonly helm: Helm,
    /** The target's namespace (the digest does not depend on it; the reference looks right). */
    private readonly namespace: string
  ) {}

  async digestOf(archive: string): Promise<string> {
    const { host } = await this.registry.get()
    const remote = `oci://${host}${this.namespace ? `/${this.namespace}` : ''}`
    return (await this.helm.push(archive, remote, true)).digest
  }

  async stop(): Promise<void> {
    if (!this.registry.started) return
    const registry = await this.registry.get().catch(() => undefined) // its failure failed charts
    await registry?.stop()
  }
}
