/** The entry point node:cluster forks for each worker (see primary.ts); not a CLI. */
import { ClusterWorker } from './worker.js';

new ClusterWorker().run();
