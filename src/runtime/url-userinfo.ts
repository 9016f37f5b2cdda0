import * as core from '@actions/core'
import { UserError } from '../errors.js'

/*
 * Credentials written into a URL input (`https://user:password@mirror/...`). The action's HTTP
 * client sends no credentials from a URL, so they cannot work; and a URL reaches error messages and
 * debug lines whole. Such an input is refused in one line that does not repeat it, after its
 * credentials are masked (the runner may print the input elsewhere).
 */

/** The `user:password` before the host of a URL (or URL-like text URL.parse rejects). */
export function urlUserinfo(text: string): string | undefined {
  const authority = text
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split(/[/?#]/)[0]
  const at = authority.lastIndexOf('@')
  return at < 0 ? undefined : authority.slice(0, at)
}

/** Every form of the credentials in `userinfo` that can reach a log: raw and percent-decoded. */
export function userinfoSecrets(userinfo: string): string[] {
  const forms = new Set<string>()
  const add = (value: string) => {
    if (value === '') return
    forms.add(value)
    try {
      forms.add(decodeURIComponent(value))
    } catch {
      // not percent-encoded
    }
  }
  add(userinfo)
  const colon = userinfo.indexOf(':')
  add(colon < 0 ? userinfo : userinfo.slice(colon + 1))
  return [...forms]
}

/** Refuses a URL input holding credentials, masking them first; `input` names the input. */
export function refuseUrlCredentials(value: string, input: string): void {
  const userinfo = urlUserinfo(value)
  if (userinfo === undefined) return
  for (const secret of userinfoSecrets(userinfo)) core.setSecret(secret)
  throw new UserError(
    `Input "${input}" must not hold credentials ("user:password@" before the host; the value is not shown): the download sends none, so use a mirror that needs no login, reachable from the runner.`
  )
}
