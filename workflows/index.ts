/** Workflow bundle entry (`workflowsPath`). Only deterministic code is reachable from here. */
export { ratingLifecycle } from './rating-lifecycle';
export { publishRelease } from './publish-release';
export { ratingCampaign } from './rating-campaign';
export { chatConversation } from './chat-conversation';
