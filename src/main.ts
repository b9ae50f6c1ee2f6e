#!/usr/bin/env node
// The entry point: tune the GC before anything else loads (loading the modules is what first
// grows V8's young generation), then run the command line. In the single-file binary
// (npm run build:binary) node:cluster forks the workers as the executable itself, so a cluster
// worker starting here runs the worker, not the CLI (from dist/, workers start at worker-main.js).
import { keepYoungGenerationSmall } from './common/gc-tuning.js';

keepYoungGenerationSmall();
const { default: cluster } = await import('node:cluster');
if (cluster.isWorker) {
  const { ClusterWorker } = await import('./cluster/worker.js');
  new ClusterWorker().run();
} else {
  await import('./cli-main.js');
}
