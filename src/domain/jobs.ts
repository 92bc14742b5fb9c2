// Words about background jobs that every layer shares (the API, the metrics, the CLI).

/** The BullMQ job states operators see, in the order the API, the metrics and the CLI list them. */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'paused',
] as const;
export type JobState = (typeof JOB_STATES)[number];
