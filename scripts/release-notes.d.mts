// Types for scripts/release-notes.mjs (plain JavaScript so the release job needs no npm ci).
export declare class ReleaseError extends Error {}

export interface ChangelogSection {
  name: string
  date: string | undefined
  body: string[]
}

export interface Changelog {
  preamble: string
  unreleased: ChangelogSection
  releases: ChangelogSection[]
  links: { label: string; url: string }[]
}

export declare function parseReleaseTag(tag: string): { version: string; major: string }
export declare function parseChangelog(text: string): Changelog
export declare function releaseNotes(text: string, versionOrTag: string): string
export declare function prepareRelease(text: string, version: string, date: string): string
export declare function majorTagToMove(tag: string, existingTags: string[]): string | undefined
export declare function nextVersion(text: string): string
export declare function dryRun(
  text: string,
  date: string
): { version: string; tag: string; major: string; notes: string; pending: boolean }
