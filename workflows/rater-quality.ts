/**
 * Rater quality in a campaign, as pure functions: a rater's score is their gold accuracy with a Beta
 * prior, `(correct + mean·strength) / (answered + strength)`; a rater below `minScore` after `minGold`
 * gold answers is excluded; gold items are mixed into a rater's hand-outs at a rate that is higher for
 * new raters (fewer than `goldWarmup` gold answers) and for raters near the threshold (score under
 * `minScore + goldLowMargin`), as Rapidata's conditional validation does. Whether a hand-out is gold is
 * a hash of (campaign, rater, hand-out number): the same on every replay, and unknowable to the rater.
 */
import type { CampaignInput, CampaignRaterRecord, RaterQualitySettings } from './types';

export const DEFAULT_QUALITY: RaterQualitySettings = {
  goldRate: 0.1,
  goldRateNew: 0.5,
  goldWarmup: 3,
  goldRateLow: 0.3,
  goldLowMargin: 0.1,
  minScore: 0.7,
  minGold: 4,
  prior: { mean: 0.75, strength: 2 },
};

export const QUALITY_FIELDS = ['goldRate', 'goldRateNew', 'goldWarmup', 'goldRateLow', 'goldLowMargin', 'minScore', 'minGold', 'prior'] as const;
const MAX_WARMUP = 1000;
const MAX_PRIOR_STRENGTH = 1000;

/** The settings an input asks for, defaults filled in; every problem goes to `errors`, naming its field. */
export function qualitySettings(input: Pick<CampaignInput, (typeof QUALITY_FIELDS)[number]>, errors: string[]): RaterQualitySettings {
  const settings: RaterQualitySettings = { ...DEFAULT_QUALITY, prior: { ...DEFAULT_QUALITY.prior } };
  const share = (field: 'goldRate' | 'goldRateNew' | 'goldRateLow' | 'goldLowMargin' | 'minScore', max = 1) => {
    const value = input[field];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) errors.push(`${field}: must be a number from 0 to ${max}`);
    else settings[field] = value;
  };
  share('goldRate');
  share('goldRateNew');
  share('goldRateLow');
  share('goldLowMargin');
  share('minScore');
  const count = (field: 'goldWarmup' | 'minGold', min: number) => {
    const value = input[field];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > MAX_WARMUP) errors.push(`${field}: must be an integer from ${min} to ${MAX_WARMUP}`);
    else settings[field] = value;
  };
  count('goldWarmup', 0);
  // At least one: nobody is excluded on the prior alone.
  count('minGold', 1);
  if (input.prior !== undefined) {
    const prior = input.prior as unknown;
    if (typeof prior !== 'object' || prior === null || Array.isArray(prior)) {
      errors.push('prior: must be an object like {"mean": 0.75, "strength": 2}');
    } else {
      const { mean, strength, ...rest } = prior as Partial<RaterQualitySettings['prior']>;
      for (const key of Object.keys(rest)) errors.push(`prior.${key}: unknown field; known: mean, strength`);
      if (mean !== undefined) {
        if (typeof mean !== 'number' || !(mean > 0 && mean < 1)) errors.push('prior.mean: must be a number between 0 and 1 (exclusive), the score of a rater with no gold answers');
        else settings.prior.mean = mean;
      }
      if (strength !== undefined) {
        if (typeof strength !== 'number' || !Number.isFinite(strength) || strength <= 0 || strength > MAX_PRIOR_STRENGTH) {
          errors.push(`prior.strength: must be a number above 0 and at most ${MAX_PRIOR_STRENGTH}, the prior's weight in gold answers`);
        } else settings.prior.strength = strength;
      }
    }
  }
  return settings;
}

/** Gold accuracy with the prior: in (0, 1) for any counts. */
export function raterScore(correct: number, answered: number, prior: RaterQualitySettings['prior']): number {
  return (correct + prior.mean * prior.strength) / (answered + prior.strength);
}

/** The share of a rater's hand-outs that are gold: new raters first, then raters near or under the threshold. */
export function goldRateFor(record: Pick<CampaignRaterRecord, 'goldAnswered' | 'score'>, settings: RaterQualitySettings): number {
  if (record.goldAnswered < settings.goldWarmup) return settings.goldRateNew;
  if (record.score < settings.minScore + settings.goldLowMargin) return settings.goldRateLow;
  return settings.goldRate;
}

/** Why a rater is excluded now, in words; undefined while they are not (too few gold answers, or scoring well). */
export function exclusionReason(record: Pick<CampaignRaterRecord, 'goldAnswered' | 'goldCorrect' | 'score'>, settings: RaterQualitySettings): string | undefined {
  if (record.goldAnswered < settings.minGold || record.score >= settings.minScore) return undefined;
  return `gold accuracy ${record.goldCorrect} of ${record.goldAnswered} (score ${record.score.toFixed(2)} with the prior) below ${settings.minScore.toFixed(2)} `
    + `after ${record.goldAnswered} gold answers`;
}

/** A uniform number in [0, 1) from a string: FNV-1a, then murmur3's finaliser to spread the bits. */
export function unitHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** Whether hand-out number `handout` (from 0) of `rater` in `campaignId` is a gold item, at `rate`. */
export function isGoldTurn(campaignId: string, rater: string, handout: number, rate: number): boolean {
  return unitHash(`${campaignId}\u0000${rater}\u0000${handout}`) < rate;
}

/** Which of `count` available gold items hand-out `handout` gets: as deterministic as the turn. */
export function goldPick(campaignId: string, rater: string, handout: number, count: number): number {
  return Math.floor(unitHash(`${campaignId}\u0000${rater}\u0000${handout}\u0000pick`) * count);
}
