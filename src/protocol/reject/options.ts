import { z } from 'zod';

/**
 * `type: reject` as mihomo reads it: a name and nothing else that matters. Extra keys pass
 * through, as mihomo ignores them.
 */
export const rejectSchema = z.looseObject({
  name: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().min(1, { message: 'must not be empty' })),
  type: z.literal('reject'),
});

/** A validated `type: reject` mapping. */
export type RejectOptions = z.output<typeof rejectSchema>;
