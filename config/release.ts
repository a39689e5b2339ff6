/** What the releases' dataset card declares about the data: its license and languages. */
import { type Env, ConfigError, list, optionalText } from './read';
import type { PreflineConfig } from './types';

/** A Hugging Face license id (`cc-by-4.0`, `apache-2.0`, `openrail++`, `other`): lowercase, no spaces. */
const LICENSE = /^[a-z0-9][a-z0-9.+-]{0,63}$/;
/** An ISO 639 code, optionally with a region or script (`en`, `pt-BR`, `zh-Hant`). */
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function readReleaseCard(env: Env): Pick<PreflineConfig, 'releaseCard'> {
  const license = optionalText(env, 'PREFLINE_RELEASE_LICENSE')?.trim();
  if (license !== undefined && !LICENSE.test(license)) {
    throw new ConfigError(`PREFLINE_RELEASE_LICENSE must be a Hugging Face license id such as cc-by-4.0, apache-2.0 or other, got "${license}"`);
  }
  const languages = list(env, 'PREFLINE_RELEASE_LANGUAGE');
  const bad = languages.find((l) => !LANGUAGE.test(l));
  if (bad !== undefined) throw new ConfigError(`PREFLINE_RELEASE_LANGUAGE must list ISO 639 codes such as en, de or pt-BR, got "${bad}"`);
  return { releaseCard: { ...(license ? { license } : {}), languages } };
}
