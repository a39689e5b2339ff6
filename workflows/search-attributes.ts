/**
 * Custom search attributes a lifecycle sets so ops can filter in the Temporal UI, e.g.
 * `PreflineStatus = "voting" AND PreflineCampaign = "spring"`. The dev-server script registers
 * exactly these names (`ops/dev-server.ts` reads this list).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const campaignKey = defineSearchAttributeKey('PreflineCampaign', SearchAttributeType.KEYWORD);
export const modelKey = defineSearchAttributeKey('PreflineModel', SearchAttributeType.KEYWORD_LIST);
export const channelKey = defineSearchAttributeKey('PreflineChannel', SearchAttributeType.KEYWORD);
export const statusKey = defineSearchAttributeKey('PreflineStatus', SearchAttributeType.KEYWORD);
/** Channel message references of a lifecycle's posts (see PostRef.messages). */
export const postRefsKey = defineSearchAttributeKey('PreflinePostRefs', SearchAttributeType.KEYWORD_LIST);
/** The owner (pseudonym) of a chat conversation: the gateway lists a rater's conversations by it. */
export const chatOwnerKey = defineSearchAttributeKey('PreflineChatOwner', SearchAttributeType.KEYWORD);

export const PREFLINE_SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: 'Keyword' | 'KeywordList' }> = [
  { name: campaignKey.name, type: 'Keyword' },
  { name: modelKey.name, type: 'KeywordList' },
  { name: channelKey.name, type: 'Keyword' },
  { name: statusKey.name, type: 'Keyword' },
  { name: postRefsKey.name, type: 'KeywordList' },
  { name: chatOwnerKey.name, type: 'Keyword' },
];
