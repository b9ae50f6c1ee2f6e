#!/usr/bin/env node
// The entry point: tune the GC before anything else loads (loading the modules is what first
// grows V8's young generation), then run the command line.
import { keepYoungGenerationSmall } from './common/gc-tuning.js';

keepYoungGenerationSmall();
await import('./cli-main.js');
