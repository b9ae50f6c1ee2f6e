/** The entry point node:cluster forks for each worker (see primary.ts); not a CLI. The GC is
 * tuned first, as in main.ts, before the worker's modules load. */
import { keepYoungGenerationSmall } from '../common/gc-tuning.js';

keepYoungGenerationSmall();
const { ClusterWorker } = await import('./worker.js');
new ClusterWorker().run();
