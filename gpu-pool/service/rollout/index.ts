// Rolling a running cluster forward to a new index version, replica by replica, with rollback.
export { RolloutError, answerVersions, mixedAnswerVersion, planRollout, publishRevert, resolveIndexDir, rollout, waves, type Replica, type RolloutOptions, type RolloutResult } from './rollout.ts';
